package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// processes tracks every child process so that all of them are stopped at
// the end, also after an error or Ctrl-C.
type processes struct {
	mu   sync.Mutex
	list []*process
}

// process is one running child.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	// stopSignal asks the process to finish; SIGTERM when zero.
	stopSignal syscall.Signal
}

// start runs cmd in the background. The child dies with us even if we are
// killed (Pdeathsig), and runs in its own process group so that a Ctrl-C
// reaches it only through stopAll, in order. A Credential already in
// cmd.SysProcAttr is kept: the child runs as that user.
func (p *processes) start(name string, cmd *exec.Cmd) (*process, error) {
	var cred *syscall.Credential
	if cmd.SysProcAttr != nil {
		cred = cmd.SysProcAttr.Credential
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pr := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(pr.done)
	}()
	p.mu.Lock()
	p.list = append(p.list, pr)
	p.mu.Unlock()
	return pr, nil
}

// stop asks the process to finish (SIGTERM, or its stopSignal), and kills
// it after 5 s.
func (pr *process) stop() {
	select {
	case <-pr.done:
		return
	default:
	}
	sig := pr.stopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	pr.cmd.Process.Signal(sig)
	select {
	case <-pr.done:
	case <-time.After(5 * time.Second):
		pr.cmd.Process.Kill()
		<-pr.done
	}
}

func (p *processes) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.list) - 1; i >= 0; i-- {
		p.list[i].stop()
	}
	p.list = nil
}

// runCmd runs a short command to its end (bounded by timeout) and returns
// its stdout, stderr and exit code (-1 when it could not run).
func runCmd(ctx context.Context, timeout time.Duration, dir, name string, args ...string) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return o.String(), e.String(), 0, nil
	case errors.As(err, &ee) && ctx.Err() == nil:
		return o.String(), e.String(), ee.ExitCode(), nil
	default:
		return o.String(), e.String(), -1, err
	}
}

// measured is one run of a command: its wall time and peak RSS.
type measured struct {
	elapsed time.Duration
	maxRSS  int64 // bytes: the child's peak resident set (VmHWM)
}

// runMeasured runs a command to its end with stdout to out, and measures
// its wall time and peak resident set (what /usr/bin/time -v reports).
func runMeasured(ctx context.Context, timeout time.Duration, dir string, out io.Writer, name string, args ...string) (measured, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var e bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &e
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measured{}, "", err
	}
	// The child's ru_maxrss is no use here: Linux carries the parent's
	// high-water mark across the exec of a vforked child, and this process
	// holds the whole data set. The child's own VmHWM, read until it
	// exits, is its peak.
	var hwm atomic.Int64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := procStatus(cmd.Process.Pid, "VmHWM"); err == nil && n > hwm.Load() {
				hwm.Store(n)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	m := measured{elapsed: time.Since(start), maxRSS: hwm.Load()}
	if err != nil {
		return m, e.String(), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, firstLine(e.String()))
	}
	return m, e.String(), nil
}

// waitListening reads the child's stdout until the "listening on
// http://ADDR" line every trendql server prints, and returns ADDR. The rest
// of stdout is drained in the background.
func waitListening(ctx context.Context, pr *process, stdout io.Reader, timeout time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on http://"); ok && !sent {
				found <- strings.TrimSpace(a)
				sent = true
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-found:
		return a, nil
	case <-pr.done:
		return "", fmt.Errorf("%s exited before listening (%v)", pr.name, pr.cmd.ProcessState)
	case <-t.C:
		return "", fmt.Errorf("%s did not print its address within %s", pr.name, timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// waitReady polls url until it answers 200, at most timeout.
func waitReady(ctx context.Context, pr *process, url string, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-pr.done:
			return fmt.Errorf("%s exited (%v)", pr.name, pr.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s was not ready within %s", url, timeout)
}

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// procStatus reads one "Key: N kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return n << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// rssSampler records the largest VmRSS of a process, sampled every 100 ms,
// until stopped.
type rssSampler struct {
	max  int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := procStatus(pid, "VmRSS"); err == nil && n > s.max {
				s.max = n
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the largest VmRSS seen, in bytes.
func (s *rssSampler) Stop() int64 {
	close(s.stop)
	<-s.done
	return s.max
}

// cpuSnapshot is the machine's CPU time and that of our processes, in
// clock ticks, at one moment.
type cpuSnapshot struct{ busy, total, ours uint64 }

// childrenOf lists the running children of pid (from /proc/*/stat).
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		// After the command name: state [0], ppid [1].
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// takeCPU reads /proc/stat and /proc/PID/stat for each of pids: their CPU
// time with that of their reaped children.
func takeCPU(pids ...int) cpuSnapshot {
	var s cpuSnapshot
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i := 1; i < len(f) && i <= 8; i++ {
			n, _ := strconv.ParseUint(f[i], 10, 64)
			s.total += n
			if i != 4 && i != 5 { // idle, iowait
				s.busy += n
			}
		}
	}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name, which may hold spaces: state is
		// [0], utime [11], stime [12].
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 14 {
			// With the reaped children's (cutime [13], cstime [14]): a
			// PostgreSQL backend that ended during the row is the
			// postmaster's child.
			for _, k := range []int{11, 12, 13, 14} {
				n, _ := strconv.ParseUint(f[k], 10, 64)
				s.ours += n
			}
		}
	}
	return s
}

// otherShare is the share of the machine's CPU that processes other than
// ours used between two snapshots: what competed with the benchmark.
func otherShare(a, b cpuSnapshot) float64 {
	total := float64(b.total - a.total)
	if total <= 0 {
		return 0
	}
	other := float64(b.busy-a.busy) - float64(b.ours-a.ours)
	return max(0, other/total)
}
