package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a server started by the benchmark, listening on address.
type process struct {
	cmd     *exec.Cmd
	address string
	log     *os.File
}

// startServer starts binary with args plus the listen flag for a free
// loopback port, and waits until it serves HTTP on readyPath.
func startServer(binary, listenFlag, readyPath string, args []string, logPath string) (*process, error) {
	address, err := freeAddress()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, append([]string{listenFlag + "=" + address}, args...)...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	p := &process{cmd: cmd, address: address, log: log}

	deadline := time.Now().Add(30 * time.Second)
	for {
		response, err := http.Get("http://" + address + readyPath)
		if err == nil {
			response.Body.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not serve HTTP on %s within 30s (log: %s)", binary, address, logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	_ = p.cmd.Wait()
	p.log.Close()
}

func (p *process) url() string {
	return "http://" + p.address + "/metrics"
}

func freeAddress() (string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer listener.Close()
	return listener.Addr().String(), nil
}

// scrape fetches url and returns how long the whole response took.
func scrape(url string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return 0, err
	}
	defer response.Body.Close()
	if _, err := io.Copy(io.Discard, response.Body); err != nil {
		return 0, err
	}
	if response.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, response.Status)
	}
	return time.Since(start), nil
}

// cpuTime returns the CPU time that process pid has used, summed over its
// threads from /proc/PID/task/*/schedstat (nanosecond resolution).
func cpuTime(pid int) (time.Duration, error) {
	paths, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(paths) == 0 {
		return 0, fmt.Errorf("read schedstat of %d: %v", pid, err)
	}
	var total time.Duration
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the thread exited
		}
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", path, err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}

// peakRSS returns VmHWM of process pid in bytes.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if value, found := strings.CutPrefix(line, "VmHWM:"); found {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// scrapeCost is the cost of one sequential scrape.
type scrapeCost struct {
	wall time.Duration
	cpu  time.Duration
}

// measureScrapes scrapes p runs times in a row and returns the median wall
// time and the median CPU time the process used during a scrape.
func measureScrapes(p *process, runs int) (scrapeCost, error) {
	var walls, cpus []time.Duration
	for range runs {
		before, err := cpuTime(p.cmd.Process.Pid)
		if err != nil {
			return scrapeCost{}, err
		}
		wall, err := scrape(p.url())
		if err != nil {
			return scrapeCost{}, err
		}
		after, err := cpuTime(p.cmd.Process.Pid)
		if err != nil {
			return scrapeCost{}, err
		}
		walls = append(walls, wall)
		cpus = append(cpus, after-before)
	}
	return scrapeCost{wall: median(walls), cpu: median(cpus)}, nil
}

// timeCommand runs path with args, stdout to /dev/null, runs times and
// returns the median wall time and the median CPU time of the process.
func timeCommand(runs int, path string, args ...string) (scrapeCost, error) {
	var walls, cpus []time.Duration
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return scrapeCost{}, err
	}
	defer devNull.Close()
	for range runs {
		cmd := exec.Command(path, args...)
		cmd.Stdout = devNull
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return scrapeCost{}, fmt.Errorf("%s %v: %w: %s", path, args, err, stderr.String())
		}
		walls = append(walls, time.Since(start))
		cpus = append(cpus, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	return scrapeCost{wall: median(walls), cpu: median(cpus)}, nil
}

func median(values []time.Duration) time.Duration {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}
