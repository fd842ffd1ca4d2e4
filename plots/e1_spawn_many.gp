# E1 spawn_many: 10,000 empty tasks spawned from a task (local) and from
# outside the runtime (remote), per worker count; every policy, Tokio, Go.
# gnuplot -e "vars='plots/data/e1_spawn_many.vars'; fmt='png'; out='...'" plots/e1_spawn_many.gp
load vars
fig_title = "E1 spawn_many: 10,000 empty tasks, spawned from a task (local) or from outside (remote)"
load "plots/style.gp"
load "plots/bars.gp"
