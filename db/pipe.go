package db

import "errors"

// pipeDepth is how many calls a pipe holds between the goroutine that
// reads and decodes a content file and the one that imports it: enough to
// keep both busy, few enough that what waits stays small (a record is at
// most about 1.3 MB decoded, most are under 1 KB).
const pipeDepth = 16

// errPipeStopped ends a reader whose sink failed: the sink's error is the
// one reported.
var errPipeStopped = errors.New("import: the importer stopped")

// pipeContent runs read, which delivers a content document to the sink it
// is given, on a goroutine of its own, and makes the calls it makes on
// sink on the calling goroutine, in the same order: reading and decoding
// the file (a tenth of a large import's time) then runs beside the
// database work instead of before each record's. The outcome is
// readContent's: the first error in the file's order wins, whether the
// sink or the reader finds it, and nothing is delivered after it.
func pipeContent(sink contentSink, read func(contentSink) error) error {
	calls := make(chan func() error, pipeDepth)
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(calls)
		readErr <- read(&pipe{calls: calls, stop: stop, sink: sink})
	}()
	var sinkErr error
	for call := range calls {
		if sinkErr != nil {
			continue // drained until the reader sees stop
		}
		if sinkErr = call(); sinkErr != nil {
			close(stop)
		}
	}
	if err := <-readErr; sinkErr == nil {
		return err
	}
	return sinkErr
}

// pipe is the contentSink pipeContent's reader calls: each call is queued
// for the importer.
type pipe struct {
	calls chan<- func() error
	stop  <-chan struct{}
	sink  contentSink
}

func (p *pipe) send(call func() error) error {
	select {
	case <-p.stop:
		return errPipeStopped
	default:
	}
	select {
	case p.calls <- call:
		return nil
	case <-p.stop:
		return errPipeStopped
	}
}

func (p *pipe) format(f string) error {
	return p.send(func() error { return p.sink.format(f) })
}

func (p *pipe) article(a *ArticleDoc) error {
	return p.send(func() error { return p.sink.article(a) })
}

func (p *pipe) company(i int, x *CompanyDoc) error {
	return p.send(func() error { return p.sink.company(i, x) })
}

func (p *pipe) framework(i int, x *FrameworkDoc) error {
	return p.send(func() error { return p.sink.framework(i, x) })
}

func (p *pipe) trend(i int, x *TrendDoc) error {
	return p.send(func() error { return p.sink.trend(i, x) })
}

func (p *pipe) faq(i int, x *FAQDoc) error {
	return p.send(func() error { return p.sink.faq(i, x) })
}

func (p *pipe) end(formatSeen bool) error {
	return p.send(func() error { return p.sink.end(formatSeen) })
}
