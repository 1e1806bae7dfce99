package queue

import (
	"testing"
	"time"
)

func TestSizeCounter(t *testing.T) {
	counter := newSizeCounter([]float64{100, 1000})
	for _, size := range []int64{0, 100, 101, 1000, 5000} {
		counter.add(size)
	}
	h := counter.histogram()

	if h.Count != 5 {
		t.Errorf("Count = %d, want 5", h.Count)
	}
	if h.Sum != 6201 {
		t.Errorf("Sum = %v, want 6201", h.Sum)
	}
	// A size equal to a bound falls in that bound's bucket.
	if h.Cumulative[0] != 2 {
		t.Errorf("bucket 100 = %d, want 2", h.Cumulative[0])
	}
	if h.Cumulative[1] != 4 {
		t.Errorf("bucket 1000 = %d, want 4", h.Cumulative[1])
	}
}

func TestAgeCounterMeasuresAtEnd(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	end := start.Add(30*time.Second + 500*time.Millisecond)
	bounds := []float64{300, 3600}
	counter := newAgeCounter(bounds, start)

	arrivals := []struct {
		name     string
		arrival  time.Time
		ageAtEnd float64
	}{
		// 290 s old at the start, 320.5 s at the end: past the 300 s bound.
		{"crosses bound", start.Add(-290 * time.Second), 320.5},
		// 270 s old at the start, 300.5 s at the end: just past the bound.
		{"just past bound", start.Add(-270 * time.Second), 300.5},
		{"just within bound", start.Add(-269 * time.Second), 299.5},
		{"new", start.Add(-10 * time.Second), 40.5},
		{"two days old", start.Add(-48 * time.Hour), 48*3600 + 30.5},
		// Arrived during the listing: age from the arrival to the end.
		{"during listing", start.Add(20 * time.Second), 10.5},
		// Arrived after the end (clock skew): age 0.
		{"after end", start.Add(40 * time.Second), 0},
		{"far after end", start.Add(time.Hour), 0},
	}
	wantSum := 0.0
	for _, a := range arrivals {
		counter.add(a.arrival)
		wantSum += a.ageAtEnd
	}
	h := counter.histogram(end)

	if h.Count != uint64(len(arrivals)) {
		t.Errorf("Count = %d, want %d", h.Count, len(arrivals))
	}
	if h.Sum != wantSum {
		t.Errorf("Sum = %v, want %v", h.Sum, wantSum)
	}
	if want := uint64(5); h.Cumulative[0] != want {
		t.Errorf("bucket 300 = %d, want %d", h.Cumulative[0], want)
	}
	if want := uint64(7); h.Cumulative[1] != want {
		t.Errorf("bucket 3600 = %d, want %d", h.Cumulative[1], want)
	}
}

func TestAgeCounterBoundIsInclusive(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	counter := newAgeCounter([]float64{300}, start)
	counter.add(start.Add(-300 * time.Second))
	counter.add(start.Add(-301 * time.Second))
	h := counter.histogram(start)

	if h.Cumulative[0] != 1 {
		t.Errorf("bucket 300 = %d, want 1 (age 300 in, age 301 out)", h.Cumulative[0])
	}
	if h.Sum != 601 {
		t.Errorf("Sum = %v, want 601", h.Sum)
	}
}

func TestAgeCounterFractionalStart(t *testing.T) {
	start := time.Unix(1_800_000_000, 700_000_000)
	counter := newAgeCounter([]float64{60}, start)
	// Ages at start: 59.7 s and 60.7 s.
	counter.add(time.Unix(1_800_000_000-59, 0))
	counter.add(time.Unix(1_800_000_000-60, 0))
	h := counter.histogram(start)

	if h.Cumulative[0] != 1 {
		t.Errorf("bucket 60 = %d, want 1", h.Cumulative[0])
	}
}

func TestHistogramBuckets(t *testing.T) {
	h := Histogram{Bounds: []float64{1, 2}, Cumulative: []uint64{3, 5}, Count: 6}
	buckets := h.Buckets()

	if len(buckets) != 2 {
		t.Errorf("len(Buckets()) = %d, want 2", len(buckets))
	}
	if buckets[1] != 3 {
		t.Errorf("Buckets()[1] = %d, want 3", buckets[1])
	}
	if buckets[2] != 5 {
		t.Errorf("Buckets()[2] = %d, want 5", buckets[2])
	}
}
