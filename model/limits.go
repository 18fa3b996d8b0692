package model

import (
	"context"
	"strconv"

	"switchyard/common/errs"
	"switchyard/model/limit"
)

// Limits are the rate limits of a token, a user or a group (issue 11), by
// the names LiteLLM's users know. Zero is no limit. Token and User embed
// them, so they are columns of those tables and fields of their JSON.
type Limits struct {
	// RPMLimit caps requests per clock minute.
	RPMLimit int64 `gorm:"column:rpm_limit;not null;default:0" json:"rpm_limit"`
	// TPMLimit caps tokens (prompt + completion) settled per clock minute;
	// a call in flight holds its estimate against it.
	TPMLimit int64 `gorm:"column:tpm_limit;not null;default:0" json:"tpm_limit"`
	// RPDLimit caps requests per UTC day.
	RPDLimit int64 `gorm:"column:rpd_limit;not null;default:0" json:"rpd_limit"`
	// MaxParallelRequests caps calls in flight at once.
	MaxParallelRequests int64 `gorm:"column:max_parallel_requests;not null;default:0" json:"max_parallel_requests"`
}

// MaxLimit bounds every limit value: far above any real deployment, far
// below where counters could wrap.
const MaxLimit = 1_000_000_000_000

// LimitPatch carries limit fields of an API request; nil fields are left
// as they are.
type LimitPatch struct {
	RPMLimit            *int64 `json:"rpm_limit"`
	TPMLimit            *int64 `json:"tpm_limit"`
	RPDLimit            *int64 `json:"rpd_limit"`
	MaxParallelRequests *int64 `json:"max_parallel_requests"`
}

// Columns validates the patch and returns its column updates.
func (p LimitPatch) Columns() (map[string]any, error) {
	f := map[string]any{}
	for _, x := range []struct {
		name string
		v    *int64
	}{{"rpm_limit", p.RPMLimit}, {"tpm_limit", p.TPMLimit}, {"rpd_limit", p.RPDLimit}, {"max_parallel_requests", p.MaxParallelRequests}} {
		if x.v == nil {
			continue
		}
		if *x.v < 0 || *x.v > MaxLimit {
			return nil, errs.BadRequest("%s must be between 0 (no limit) and %d", x.name, int64(MaxLimit)).WithParam(x.name)
		}
		f[x.name] = *x.v
	}
	return f, nil
}

// Apply writes the patch's fields onto l (validate with Columns first).
func (p LimitPatch) Apply(l *Limits) {
	if p.RPMLimit != nil {
		l.RPMLimit = *p.RPMLimit
	}
	if p.TPMLimit != nil {
		l.TPMLimit = *p.TPMLimit
	}
	if p.RPDLimit != nil {
		l.RPDLimit = *p.RPDLimit
	}
	if p.MaxParallelRequests != nil {
		l.MaxParallelRequests = *p.MaxParallelRequests
	}
}

// Validate checks every field is in range.
func (l Limits) Validate() error {
	_, err := LimitPatch{&l.RPMLimit, &l.TPMLimit, &l.RPDLimit, &l.MaxParallelRequests}.Columns()
	return err
}

// Rule is l as the limiter's rule for subject.
func (l Limits) Rule(subject string) limit.Rule {
	return limit.Rule{Subject: subject, RPM: l.RPMLimit, TPM: l.TPMLimit, RPD: l.RPDLimit, Parallel: l.MaxParallelRequests}
}

// Subjects of the limiter's counters.
func TokenSubject(id int) string   { return "t:" + strconv.Itoa(id) }
func UserSubject(id int) string    { return "u:" + strconv.Itoa(id) }
func GroupSubject(g string) string { return "g:" + g }
func ChannelSubject(id int) string { return "c:" + strconv.Itoa(id) }

func init() {
	onOpen(func(ctx context.Context, s *Store) error {
		s.Limits = limit.New(s.Redis, s.Cfg.RedisKeyPrefix)
		s.AtClose(s.Limits.Close)
		return nil
	})
}
