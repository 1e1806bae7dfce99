package parser

import (
	"testing"
	"time"
)

func TestArrivalTime(t *testing.T) {
	type date struct {
		month                     time.Month
		day, hour, minute, second int
	}
	plus10 := time.FixedZone("UTC+10", 10*60*60)
	tests := []struct {
		name   string
		now    time.Time
		loc    *time.Location
		listed date
		want   time.Time
	}{
		{"same day", utc(2026, 12, 4, 15, 0, 0), time.UTC, date{time.December, 4, 14, 53, 35},
			utc(2026, 12, 4, 14, 53, 35)},
		{"earlier this year", utc(2026, 6, 15, 0, 0, 0), time.UTC, date{time.March, 1, 0, 0, 0},
			utc(2026, 3, 1, 0, 0, 0)},
		{"later month is last year", utc(2026, 6, 15, 0, 0, 0), time.UTC, date{time.December, 4, 14, 53, 35},
			utc(2025, 12, 4, 14, 53, 35)},
		{"Dec 31 just after new year", utc(2027, 1, 1, 0, 30, 0), time.UTC, date{time.December, 31, 23, 59, 0},
			utc(2026, 12, 31, 23, 59, 0)},
		{"Jan 1 on Dec 31 is this year's", utc(2026, 12, 31, 10, 0, 0), time.UTC, date{time.January, 1, 12, 0, 0},
			utc(2026, 1, 1, 12, 0, 0)},
		{"Jan 1 within skew of Dec 31", utc(2026, 12, 31, 23, 0, 0), time.UTC, date{time.January, 1, 0, 0, 5},
			utc(2027, 1, 1, 0, 0, 5)},
		{"seconds in the future", utc(2026, 12, 4, 14, 53, 30), time.UTC, date{time.December, 4, 14, 53, 35},
			utc(2026, 12, 4, 14, 53, 35)},
		{"just beyond skew is last year", utc(2026, 12, 3, 14, 53, 34), time.UTC, date{time.December, 4, 14, 53, 35},
			utc(2025, 12, 4, 14, 53, 35)},
		{"Feb 29 on a non-leap now", utc(2027, 3, 1, 0, 0, 0), time.UTC, date{time.February, 29, 12, 0, 0},
			utc(2024, 2, 29, 12, 0, 0)},
		{"Feb 29 on leap day", utc(2028, 2, 29, 10, 0, 0), time.UTC, date{time.February, 29, 9, 0, 0},
			utc(2028, 2, 29, 9, 0, 0)},
		{"Feb 29 across 2100", utc(2100, 3, 1, 0, 0, 0), time.UTC, date{time.February, 29, 9, 0, 0},
			utc(2096, 2, 29, 9, 0, 0)},
		{"server zone ahead of now's zone", utc(2026, 12, 31, 20, 0, 0), plus10, date{time.January, 1, 5, 0, 0},
			time.Date(2027, 1, 1, 5, 0, 0, 0, plus10)},
		{"Dec 31 in server zone", utc(2026, 12, 31, 20, 0, 0), plus10, date{time.December, 31, 23, 0, 0},
			time.Date(2026, 12, 31, 23, 0, 0, 0, plus10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.listed
			got, ok := arrivalTime(d.month, d.day, d.hour, d.minute, d.second, tt.now, tt.loc)
			if !ok {
				t.Fatal("arrivalTime reported an impossible date")
			}
			if !got.Equal(tt.want) {
				t.Errorf("arrivalTime = %v, want %v", got, tt.want)
			}
			if got.Location() != tt.loc {
				t.Errorf("location = %v, want %v", got.Location(), tt.loc)
			}
		})
	}
}

func TestArrivalTimeImpossible(t *testing.T) {
	tests := []struct {
		month time.Month
		day   int
	}{
		{time.February, 30},
		{time.April, 31},
		{time.November, 31},
	}
	for _, tt := range tests {
		t.Run(tt.month.String(), func(t *testing.T) {
			if got, ok := arrivalTime(tt.month, tt.day, 0, 0, 0, fixtureNow, time.UTC); ok {
				t.Errorf("arrivalTime(%v %d) = %v, want no date", tt.month, tt.day, got)
			}
		})
	}
}
