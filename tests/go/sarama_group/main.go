// A consumer group of Sarama 1.22 (Debian's golang-github-shopify-sarama-dev), a client still
// in wide use that speaks pre-2.1 request versions: OffsetCommit v1 for its commits.
//
// Usage: sarama_group BOOTSTRAP TOPIC GROUP COUNT
//
// It joins GROUP, consumes COUNT records of TOPIC from the earliest offset, marks each one,
// then leaves the group (which commits what it marked) and prints one JSON line:
// {"consumed": N, "errors": [...]}. It exits 1 when it could not consume COUNT records.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

type handler struct {
	want     int
	mu       sync.Mutex
	consumed int
	done     chan struct{}
	once     sync.Once
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for message := range claim.Messages() {
		session.MarkMessage(message, "")
		h.mu.Lock()
		h.consumed++
		if h.consumed >= h.want {
			h.once.Do(func() { close(h.done) })
		}
		h.mu.Unlock()
	}
	return nil
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: sarama_group BOOTSTRAP TOPIC GROUP COUNT")
		os.Exit(2)
	}
	want, err := strconv.Atoi(os.Args[4])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	config := sarama.NewConfig()
	config.Version = sarama.V2_0_0_0
	config.ClientID = "sarama-group-test"
	config.Consumer.Return.Errors = true
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	group, err := sarama.NewConsumerGroup([]string{os.Args[1]}, os.Args[3], config)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	h := &handler{want: want, done: make(chan struct{})}
	var errs []string
	var errsMu sync.Mutex
	go func() {
		for err := range group.Errors() {
			errsMu.Lock()
			errs = append(errs, err.Error())
			errsMu.Unlock()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if err := group.Consume(ctx, []string{os.Args[2]}, h); err != nil {
				errsMu.Lock()
				errs = append(errs, err.Error())
				errsMu.Unlock()
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	select {
	case <-h.done:
	case <-time.After(60 * time.Second):
	}
	cancel()
	closeErr := group.Close()
	h.mu.Lock()
	consumed := h.consumed
	h.mu.Unlock()
	errsMu.Lock()
	if closeErr != nil {
		errs = append(errs, closeErr.Error())
	}
	out, _ := json.Marshal(map[string]interface{}{"consumed": consumed, "errors": errs})
	errsMu.Unlock()
	fmt.Println(string(out))
	if consumed < want {
		os.Exit(1)
	}
}
