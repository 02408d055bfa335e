package testkit

import "syscall"

const (
	syscallUSR1 = syscall.SIGUSR1
	syscallHUP  = syscall.SIGHUP
)
