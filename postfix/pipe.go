package postfix

import (
	"io"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Bounds of the pause of batchReader. postqueue writes one message per
// write(2), and reading each message with its own read(2) cost more CPU than
// parsing it on the 2-core lab machine. Postfix 3.7's showq filled the pipe
// at 7 to 13 MB/s there, so maxPipePause gathers 220 to 420 KB. Longer
// pauses cost less, because each one costs system calls, a thread wake-up
// and work of the Go runtime's monitor thread. At 10,000 messages, the
// exporter's CPU time per scrape was 29 ms with 8 ms pauses, 27 ms with
// 16 ms, and 23 ms with 32 and 64 ms.
const (
	minPipePause = time.Millisecond
	maxPipePause = 32 * time.Millisecond
)

// pipeSize is the capacity requested for the pipe of postqueue's output, the
// largest that Linux grants unprivileged processes by default
// (/proc/sys/fs/pipe-max-size). A pipe that fills up during a pause makes
// postqueue wait, and batchReader then shortens its pauses.
const pipeSize = 1 << 20

// defaultPipeSize is the capacity of a Linux pipe that was not resized.
const defaultPipeSize = 64 << 10

// minPausedPipe is the smallest pipe capacity that batchReader pauses on.
// Linux refuses to resize pipes for a user whose pipes already hold
// fs.pipe-user-pages-soft pages, and new pipes then hold 8 KiB. Pausing on
// such a pipe made the scrape of a fast stand-in postqueue over 10 times
// slower than the stand-in alone, so batchReader reads it as data arrives.
const minPausedPipe = 256 << 10

// batchReader reads a pipe that its writer fills in small pieces. After each
// read that emptied the pipe, it pauses so that the next read finds more
// data waiting. A pause ends early when the writer closes the pipe, so it
// adds nothing to the end of a listing. The pause halves when the pipe filled
// to three quarters during the last one, and doubles, up to maxPipePause,
// when it filled to less than a quarter.
type batchReader struct {
	r        io.Reader
	conn     syscall.RawConn     // the pipe's descriptor; nil in tests that read other sources
	pause    func(time.Duration) // nil for a pipe too small to pause on
	capacity int                 // bytes the pipe holds
	wait     time.Duration       // the next pause
	gathered int                 // bytes read since the last pause
}

// newBatchReader returns a batchReader for the read end of a pipe. A pause
// waits for the pipe's last writer to close it, for at most the pause time,
// and a pipe smaller than minPausedPipe, or a file that is not a pipe, gets
// no pauses.
func newBatchReader(f *os.File) *batchReader {
	b := &batchReader{r: f, capacity: defaultPipeSize, wait: maxPipePause}
	conn, err := f.SyscallConn()
	if err != nil {
		return b
	}
	b.conn = conn
	_ = conn.Control(func(fd uintptr) {
		size, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
		if err == nil && size > 0 {
			b.capacity = size
		}
	})
	if b.capacity >= minPausedPipe {
		b.pause = func(d time.Duration) { waitHangup(conn, d) }
	}
	return b
}

func (b *batchReader) Read(p []byte) (int, error) {
	if b.conn != nil {
		if err := waitReadable(b.conn); err != nil {
			return 0, err
		}
	}
	n, err := b.r.Read(p)
	b.gathered += n
	if b.pause != nil && err == nil && n < len(p) {
		switch {
		case b.gathered >= b.capacity*3/4:
			b.wait = max(b.wait/2, minPipePause)
		case b.gathered < b.capacity/4:
			b.wait = min(b.wait*2, maxPipePause)
		}
		b.pause(b.wait)
		b.gathered = 0
	}
	return n, err
}

// readableCheck is how often waitReadable checks that the file is still
// open.
var readableCheck = unix.NsecToTimespec(int64(time.Second))

// waitReadable blocks until the pipe has data or no writer is left, so that
// the read after it returns at once. Run closes the file when it gives up on
// a command whose stdout a process outside the process group keeps open. The
// wait then fails within readableCheck and the reading goroutine ends. A
// blocking read(2) would keep a thread for as long as that process lives.
func waitReadable(conn syscall.RawConn) error {
	for {
		ready, err := poll(conn, unix.POLLIN, readableCheck)
		if err != nil || ready {
			return err
		}
	}
}

// waitHangup blocks until the last writer of the pipe closes it, or for d.
// It waits for no event at all: Linux then reports only the hang-up, not
// each write. An error such as EINTR just ends the wait early.
func waitHangup(conn syscall.RawConn, d time.Duration) {
	_, _ = poll(conn, 0, unix.NsecToTimespec(int64(d)))
}

// poll waits in ppoll(2) until the descriptor of conn has one of events, or
// the hang-up that Linux always reports, or until timeout, and reports
// whether it had an event. The error comes from conn.Control, for a closed
// file for example. Errors of ppoll itself, such as EINTR, count as no event.
func poll(conn syscall.RawConn, events int16, timeout unix.Timespec) (bool, error) {
	ready := false
	err := conn.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, _ := unix.Ppoll(fds, &timeout, nil)
		ready = n > 0
	})
	return ready, err
}

// blockingPipe returns a pipe whose read end is a blocking file descriptor.
// Go registers the pipes of os.Pipe and exec.Cmd.StdoutPipe with its network
// poller, and then every write(2) of the child wakes the poller, even when no
// read is waiting. With postqueue's many small writes, that cost more CPU
// than parsing the listing. A blocking read costs a thread while it waits,
// and nothing when no read is waiting.
func blockingPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	// Best effort: a smaller pipe only costs more reads. A limit lowered
	// below pipeSize may still allow a size that batchReader pauses on.
	for size := pipeSize; size >= minPausedPipe; size /= 2 {
		if _, err := unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, size); err == nil {
			break
		}
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}
