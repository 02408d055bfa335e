package testkit

import "syscall"

const syscallUSR1 = syscall.SIGUSR1
