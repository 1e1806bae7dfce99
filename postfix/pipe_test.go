package postfix

import (
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/sys/unix"
)

func TestBatchReaderPauses(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		bufferSize int
		wantPauses int
	}{
		// iotest.OneByteReader returns one byte per read, like a pipe
		// whose writer writes little at a time.
		{"short reads", "abcd", 8, 4},
		{"full reads", strings.Repeat("x", 32), 8, 0},
		{"empty", "", 8, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := io.Reader(strings.NewReader(tt.input))
			if tt.wantPauses > 0 {
				source = iotest.OneByteReader(source)
			}
			pauses := 0
			reader := &batchReader{r: source, pause: func(time.Duration) { pauses++ },
				capacity: defaultPipeSize, wait: maxPipePause}
			buf := make([]byte, tt.bufferSize)
			var got strings.Builder
			for {
				n, err := reader.Read(buf)
				got.Write(buf[:n])
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got.String() != tt.input {
				t.Errorf("read %q, want %q", got.String(), tt.input)
			}
			if pauses != tt.wantPauses {
				t.Errorf("paused %d times, want %d", pauses, tt.wantPauses)
			}
		})
	}
}

// chunkReader returns the next of its chunk sizes of bytes per read, like a
// pipe that held that much each time.
type chunkReader struct{ chunks []int }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := min(c.chunks[0], len(p))
	c.chunks[0] -= n
	if c.chunks[0] == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func TestBatchReaderAdaptsPause(t *testing.T) {
	const capacity = 1000
	// io.Copy reads 32 KiB at a time, so each chunk ends with a short read
	// and is what one pause gathered: 750 bytes or more shortens the next
	// pause, less than 250 lengthens it.
	source := &chunkReader{chunks: []int{850, 800, 900, 500, 100, 10, 10, 10, 10, 10, 10, 10}}
	var pauses []time.Duration
	reader := &batchReader{r: source, pause: func(d time.Duration) { pauses = append(pauses, d) },
		capacity: capacity, wait: maxPipePause}
	if _, err := io.Copy(io.Discard, struct{ io.Reader }{reader}); err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	want := []time.Duration{16 * ms, 8 * ms, 4 * ms, 4 * ms, 8 * ms, 16 * ms, 32 * ms, 32 * ms, 32 * ms, 32 * ms,
		32 * ms, 32 * ms}
	if len(pauses) != len(want) {
		t.Fatalf("pauses %v, want %v", pauses, want)
	}
	for i := range want {
		if pauses[i] != want[i] {
			t.Fatalf("pauses %v, want %v", pauses, want)
		}
	}

	// Halving stops at minPipePause.
	source = &chunkReader{chunks: []int{900, 900, 900, 900, 900, 900, 900}}
	pauses = nil
	reader = &batchReader{r: source, pause: func(d time.Duration) { pauses = append(pauses, d) },
		capacity: capacity, wait: maxPipePause}
	if _, err := io.Copy(io.Discard, struct{ io.Reader }{reader}); err != nil {
		t.Fatal(err)
	}
	if last := pauses[len(pauses)-1]; last != minPipePause {
		t.Errorf("pauses %v, want the last at %v", pauses, minPipePause)
	}
}

func TestBatchReaderPauseEndsAtHangUp(t *testing.T) {
	r, w, err := blockingPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	reader := newBatchReader(r)
	if reader.pause == nil {
		// Not an error: a system may lower pipe-max-size.
		t.Skipf("pipe capacity %d is too small to pause on", reader.capacity)
	}

	if _, err := w.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		w.Close()
	}()
	reader.wait = 10 * time.Second
	start := time.Now()
	// The read returns less than the buffer holds, so it pauses until the writer
	// closes the pipe rather than for the pause time.
	buf := make([]byte, 100)
	n, err := reader.Read(buf)
	if err != nil || string(buf[:n]) != "first" {
		t.Fatalf("Read = %q, %v; want \"first\", nil", buf[:n], err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the pause lasted %v, want it to end when the writer closed the pipe", elapsed)
	}
	if _, err := reader.Read(buf); err != io.EOF {
		t.Errorf("second Read error %v, want EOF", err)
	}
}

func TestBatchReaderSmallPipeNoPauses(t *testing.T) {
	r, w, err := blockingPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// Shrinking an empty pipe is allowed for any user.
	if _, err := unix.FcntlInt(r.Fd(), unix.F_SETPIPE_SZ, 8<<10); err != nil {
		t.Fatal(err)
	}
	reader := newBatchReader(r)
	if reader.capacity != 8<<10 {
		t.Fatalf("capacity %d, want %d", reader.capacity, 8<<10)
	}
	if reader.pause != nil {
		t.Error("an 8 KiB pipe gets pauses, want none")
	}

	// A short read on it returns at once.
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	reader.wait = 10 * time.Second
	start := time.Now()
	if _, err := reader.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("a short read took %v, want no pause", elapsed)
	}
}

func TestBatchReaderFileNoPauses(t *testing.T) {
	file, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	reader := newBatchReader(file)
	if reader.capacity != defaultPipeSize || reader.wait != maxPipePause {
		t.Errorf("capacity %d, wait %v; want %d, %v", reader.capacity, reader.wait, defaultPipeSize, maxPipePause)
	}
	if reader.pause != nil {
		t.Error("a file that is not a pipe gets pauses, want none")
	}
}
