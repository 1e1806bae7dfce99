package postfix

import (
	"io"
	"os"
	"syscall"
	"time"
)

// pipePause is how long batchReader waits after a short read. postqueue
// writes one message per write(2), and reading each message with its own
// read(2) and goroutine wake-up cost about 20 µs of CPU per message on the
// 2-core lab machine: more than parsing it. Postfix 3.7's showq filled the
// pipe at 7 to 13 MB/s there, so 5 ms gathers 35 to 65 KB, and pipeSize
// leaves room for a writer up to 200 MB/s.
const pipePause = 5 * time.Millisecond

// pipeSize is the capacity asked for the pipe of postqueue's output, the
// largest that Linux grants unprivileged processes by default
// (/proc/sys/fs/pipe-max-size). With the default 64 KiB, a fast postqueue
// would wait for the reader during pipePause.
const pipeSize = 1 << 20

// batchReader reads a pipe that its writer fills in small pieces, pausing
// after each read that returned less than half the buffer so that the next
// read finds more data waiting. It adds at most one pause to the end of a
// listing.
type batchReader struct {
	r     io.Reader
	pause func() // nil means sleeping for pipePause
}

func (b batchReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == nil && n < len(p)/2 {
		if b.pause != nil {
			b.pause()
		} else {
			time.Sleep(pipePause)
		}
	}
	return n, err
}

// fSetPipeSize is F_SETPIPE_SZ of fcntl(2), Linux 2.6.35 and later.
const fSetPipeSize = 1031

// blockingPipe returns a pipe whose read end is a blocking file descriptor.
// Go registers the pipes of os.Pipe and exec.Cmd.StdoutPipe with its network
// poller, and then every write(2) of the child wakes the poller, even when no
// read is waiting. With postqueue's one write per message, that cost more CPU
// than parsing the listing. A blocking read costs a thread while it waits,
// and nothing when no read is waiting.
func blockingPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	// Best effort: a smaller pipe only costs more reads.
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), fSetPipeSize, pipeSize)
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}
