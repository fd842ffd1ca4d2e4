module voltc/experiments/peers/go

go 1.19
