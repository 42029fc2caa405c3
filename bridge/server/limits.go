package server

import (
	"context"
	"math"
	"net/http"
	"runtime/debug"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/semaphore"
)

// Limits on what one webhook request, and all of them together, may cost.
const (
	// DefaultMaxAlerts is the default limit on the alerts of one
	// notification (--web.max-alerts). Alertmanager's webhook sends a
	// whole group in one post unless its max_alerts truncates it.
	DefaultMaxAlerts = 10000
	// DefaultDecodeWait is how long a webhook request waits for decode
	// budget before it is answered 503.
	DefaultDecodeWait = 2 * time.Second
	// DefaultDecodeBudgetNoLimit is the decode budget when the process has
	// no memory limit (no GOMEMLIMIT, no cgroup limit).
	DefaultDecodeBudgetNoLimit = 256 << 20
	// DecodeBudgetShare is the share of the Go memory limit (GOMEMLIMIT)
	// that the decode budget defaults to. The rest is for the store, the
	// queue, deliveries in flight and garbage not yet collected.
	DecodeBudgetShare = 0.5

	// Cost model of one request; see decodeCost. Calibrated on the
	// bridge itself: one post of 4 MiB with 10,000 alerts took its RSS
	// from 28 to about 110 MiB under GOMEMLIMIT=100MiB (decoding, records,
	// the store's encoding and commit, the first deliveries).
	costPerBodyByte = 6
	costPerAlert    = 4 << 10
	minAlertBytes   = 36 // {"labels":{"":""},"status":"firing"}
)

// Option configures New.
type Option func(*Server)

// MaxAlerts limits the alerts of one notification: a notification with
// more is answered 413, and its alerts are counted without being decoded.
// n <= 0 means DefaultMaxAlerts.
func MaxAlerts(n int) Option {
	return func(s *Server) {
		if n > 0 {
			s.maxAlerts = n
		}
	}
}

// DecodeBudget bounds the memory that webhook requests being read,
// decoded and accepted may cost together, in bytes, as estimated by
// decodeCost. bytes <= 0 derives it: DecodeBudgetShare of the Go memory
// limit (debug.SetMemoryLimit, which GOMEMLIMIT or automemlimit set), or
// DefaultDecodeBudgetNoLimit without one.
func DecodeBudget(bytes int64) Option {
	return func(s *Server) { s.budgetBytes = bytes }
}

// DecodeWait is how long a request waits for budget before it is
// answered 503 with Retry-After (d <= 0 means DefaultDecodeWait).
func DecodeWait(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.decodeWait = d
		}
	}
}

// defaultDecodeBudget is the budget DecodeBudget(0) means, for the
// process's current memory limit.
func defaultDecodeBudget() int64 {
	limit := debug.SetMemoryLimit(-1)
	if limit <= 0 || limit == math.MaxInt64 {
		return DefaultDecodeBudgetNoLimit
	}
	return int64(float64(limit) * DecodeBudgetShare)
}

// initLimits applies the defaults and builds the budget semaphore.
func (s *Server) initLimits() {
	if s.maxAlerts <= 0 {
		s.maxAlerts = DefaultMaxAlerts
	}
	if s.decodeWait <= 0 {
		s.decodeWait = DefaultDecodeWait
	}
	if s.budgetBytes <= 0 {
		s.budgetBytes = defaultDecodeBudget()
	}
	s.budget = semaphore.NewWeighted(s.budgetBytes)
	maxCost := s.decodeCost(-1)
	s.log.Info("webhook limits",
		zap.Int64("max_request_bytes", s.maxBodyBytes),
		zap.Int("max_alerts", s.maxAlerts),
		zap.Int64("decode_budget_bytes", s.budgetBytes),
		zap.Int64("largest_request_cost_bytes", maxCost))
	if maxCost >= s.budgetBytes {
		s.log.Warn("a request of the largest accepted size costs the whole decode budget: such requests are decoded one at a time, and may still exceed it",
			zap.Int64("largest_request_cost_bytes", maxCost), zap.Int64("decode_budget_bytes", s.budgetBytes))
	}
}

// decodeCost estimates the memory that reading, decoding and accepting a
// body of n bytes costs (n < 0: unknown length, so the body limit): the
// body buffer (which grows by doubling) and the decoded strings,
// costPerBodyByte per body byte; plus costPerAlert for each alert the
// body can hold (at most maxAlerts, at least minAlertBytes each) for its
// maps, records, alert center entry and stored encoding, since a small
// alert costs far more than its JSON. The estimate is never below 1 KiB nor above the body
// limit's, so a request with a lying Content-Length costs no more than
// the largest one allowed.
func (s *Server) decodeCost(n int64) int64 {
	if n < 0 || n > s.maxBodyBytes {
		n = s.maxBodyBytes
	}
	alerts := min(n/minAlertBytes, int64(s.maxAlerts))
	return max(n*costPerBodyByte+alerts*costPerAlert, 1<<10)
}

// acquire reserves the decode budget for a request of the given length,
// waiting up to decodeWait (or until the request's context ends). It
// returns the release function, or false when the budget stayed
// exhausted. A request that costs more than the whole budget waits for
// all of it and then runs alone.
func (s *Server) acquire(r *http.Request) (release func(), ok bool) {
	cost := min(s.decodeCost(r.ContentLength), s.budgetBytes)
	if !s.budget.TryAcquire(cost) {
		ctx, cancel := context.WithTimeout(r.Context(), s.decodeWait)
		err := s.budget.Acquire(ctx, cost)
		cancel()
		if err != nil {
			return nil, false
		}
	}
	return func() { s.budget.Release(cost) }, true
}

// retryAfterSeconds is the Retry-After of a 503 for exhausted budget: the
// requests that hold it are usually done well within a second.
const retryAfterSeconds = "1"
