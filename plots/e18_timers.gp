# E18 timers: a one-hour sleep armed and cancelled from inside a task (the
# whole path: clock read, wheel insert under its lock, waker clone, and back),
# and a million tasks asleep at once (the 99th percentile of how late they
# ran after their deadlines); Volt-C against Tokio and Go.
# Reproduces: the issue's goal of <= 50 ns per timer insert+cancel.
load vars
fig_title = "E18 timers: arming a sleep, and a million sleepers"
load "plots/style.gp"
load "plots/bars.gp"
