package drive

import "errors"

// Halter is anything that can make its motors inert: *Drive, any hw.Drive,
// or a fake.
type Halter interface {
	Halt() error
}

// Guard runs fn and halts h however fn ends: a return (with or without an
// error) or a panic. It returns fn's error joined with Halt's. A panic is not
// swallowed: the halt happens while the panic unwinds, and the panic then
// continues with its original value and stack. Run every goroutine that
// commands the drive under Guard; a panic in another goroutine does not pass
// through this one.
func Guard(h Halter, fn func() error) (err error) {
	defer func() {
		// On a panic this runs during unwinding; err is then irrelevant.
		err = errors.Join(err, h.Halt())
	}()
	return fn()
}
