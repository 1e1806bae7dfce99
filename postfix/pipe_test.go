package postfix

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
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
			reader := batchReader{r: source, pause: func() { pauses++ }}
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
