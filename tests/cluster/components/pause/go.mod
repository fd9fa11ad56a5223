// The lab's pause program (the pod sandbox's PID 1), built by tests/lab/images/pause/build.sh.
module yellow.test/pause

go 1.26.0
