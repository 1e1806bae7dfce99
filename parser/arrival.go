package parser

import "time"

// maxClockSkew is how far past TextOptions.Now a listed arrival time may lie
// and still be taken as this year's. Postfix and the parser normally share a
// clock, but queue files can be stamped slightly ahead ("file system clock is
// ahead" warnings), and a Location that differs from the server's zone shifts
// times by up to 14 hours. Without the allowance such a message would be
// dated a year back.
const maxClockSkew = 24 * time.Hour

// arrivalTime returns the latest time in loc that falls on the given month,
// day and clock time and is not later than now plus maxClockSkew. It reports
// false when the month never has that day, such as Feb 30.
//
// NOTE: a message that has been queued for more than a year, as can happen
// in the hold queue, is dated a year or more too late, because a
// `postqueue -p` arrival time has no year.
func arrivalTime(month time.Month, day, hour, minute, second int, now time.Time, loc *time.Location) (time.Time, bool) {
	limit := now.Add(maxClockSkew)
	year := limit.In(loc).Year()

	// Feb 29 recurs after at most 8 years (2096, then 2104).
	for oldest := year - 8; year >= oldest; year-- {
		if time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Day() != day {
			continue // no such day in this year, such as Feb 29 in 2027
		}
		t := time.Date(year, month, day, hour, minute, second, 0, loc)
		if !t.After(limit) {
			return t, true
		}
	}
	return time.Time{}, false
}
