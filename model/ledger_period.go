package model

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	// The zone database is embedded so QuotaPeriodTimeZone works in images
	// without /usr/share/zoneinfo (distroless, scratch).
	_ "time/tzdata"

	"gorm.io/gorm"

	"switchyard/common/errs"
)

// Period quotas (issue 11, point 2): beside its lifetime quota a token or a
// user may have PeriodQuota per day, week or month. Periods start at 00:00
// in the QuotaPeriodTimeZone option's zone; weeks on Monday, months on the
// 1st. The ledger enforces a period quota with the lifetime invariants:
// never below zero, a reservation held against the period too, the whole
// rest reserved when the period has less than the estimate, settlement
// capped at what the period has left.
//
// A charge belongs to the period in which it is settled, which is when its
// consume log is created: so for every token and user, period_used equals
// the sum of the consume logs created since period_start. A reservation
// made in one period and settled in the next is held against the first
// only; at settlement its hold is released and its true cost is charged to
// the new period, capped at what the new period has left (a new period
// starts full, so in practice only a period already used up at its first
// second caps it, and then the call is under-charged, never over-charged).
//
// The period's figures:
//   - memory (one node): periodBal beside the lifetime balance, loaded from
//     the row (period_used, period_start) once;
//   - Redis: one key per subject and period, ledger:up:<user>:<start> and
//     ledger:tp:<token>:<start>, holding minus what the period has used or
//     holds (available = period_quota + value). Being a balance like the
//     lifetime ones (seeded as row − Σ resv, where the "row" is
//     −period_used when the row's period_start is this period, else 0), the
//     seed, register, reconcile and release scripts apply to it unchanged,
//     and it is leased like them (ledger_lease.go): while Redis is away a
//     node spends a period from its lease on it only.
//     It expires a day after its period ends.
//   - rows: period_used and period_start, written by the group commit: a
//     batch's charge for period S adds to period_used when the row's
//     period_start is S, starts the period when the row's is older, and is
//     dropped when the row is already in a later period (a batch retried
//     across a reset: that period is over).
//
// Which period quota applies is read from the rows once and cached per
// node, dropped on the token/user invalidation (every write through the
// API publishes one), so the hot path reads no row in the steady state.
// Changing quota_period resets the row's period count (see
// ResetPeriod): the new period starts from zero.

// Period kinds, the values of quota_period.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
)

// MaxPeriodQuota bounds period_quota (the same bound as rate limits).
const MaxPeriodQuota = MaxLimit

// Period is the period quota of a token or a user: columns of their tables
// and fields of their JSON. PeriodUsed and PeriodStart are the ledger's.
type Period struct {
	// PeriodQuota is the quota per period; 0 is none.
	PeriodQuota int64 `gorm:"column:period_quota;not null;default:0" json:"period_quota"`
	// QuotaPeriod is "day", "week" or "month"; "" when PeriodQuota is 0.
	QuotaPeriod string `gorm:"column:quota_period;size:8;not null;default:''" json:"quota_period"`
	// PeriodUsed is what was charged since PeriodStart.
	PeriodUsed int64 `gorm:"column:period_used;not null;default:0" json:"period_used"`
	// PeriodStart is the unix second the counted period started; 0 none.
	PeriodStart int64 `gorm:"column:period_start;not null;default:0" json:"-"`
	// PeriodResetAt is when the current period ends (unix s), 0 when there
	// is no period quota; computed for replies, never stored.
	PeriodResetAt int64 `gorm:"-" json:"period_reset_at"`
}

// ValidPeriod reports whether kind is a quota_period value ("" is none).
func ValidPeriod(kind string) bool {
	switch kind {
	case "", PeriodDay, PeriodWeek, PeriodMonth:
		return true
	}
	return false
}

// PeriodPatch carries the period fields of an API request; nil is "leave".
type PeriodPatch struct {
	PeriodQuota *int64  `json:"period_quota"`
	QuotaPeriod *string `json:"quota_period"`
}

// Resolve validates the patch against the current values cur and returns
// the new pair. A quota without a period, or a period without a quota, is
// refused, naming the field; a zero quota clears the period.
func (p PeriodPatch) Resolve(cur Period) (quota int64, kind string, err error) {
	quota, kind = cur.PeriodQuota, cur.QuotaPeriod
	if p.PeriodQuota != nil {
		if *p.PeriodQuota < 0 || *p.PeriodQuota > MaxPeriodQuota {
			return 0, "", errs.BadRequest("period_quota must be between 0 (no period quota) and %d", int64(MaxPeriodQuota)).WithParam("period_quota")
		}
		quota = *p.PeriodQuota
	}
	if p.QuotaPeriod != nil {
		if !ValidPeriod(*p.QuotaPeriod) {
			return 0, "", errs.BadRequest(`quota_period must be "day", "week", "month" or "" (none)`).WithParam("quota_period")
		}
		kind = *p.QuotaPeriod
	}
	if quota == 0 {
		return 0, "", nil
	}
	if kind == "" {
		return 0, "", errs.BadRequest(`quota_period must be "day", "week" or "month" when period_quota is set`).WithParam("quota_period")
	}
	return quota, kind, nil
}

// Columns is the row update for a resolved pair; a changed period kind (or
// a period quota newly set) starts a fresh count.
func (p PeriodPatch) Columns(cur Period, quota int64, kind string) map[string]any {
	f := map[string]any{}
	if p.PeriodQuota == nil && p.QuotaPeriod == nil {
		return f
	}
	f["period_quota"], f["quota_period"] = quota, kind
	if kind != cur.QuotaPeriod {
		f["period_used"], f["period_start"] = 0, 0
	}
	return f
}

// PeriodBounds returns the start and end of the period of kind that holds
// now in loc.
func PeriodBounds(kind string, now time.Time, loc *time.Location) (start, end time.Time) {
	t := now.In(loc)
	y, m, d := t.Date()
	switch kind {
	case PeriodWeek:
		// Monday is day 0 of the week.
		back := (int(t.Weekday()) + 6) % 7
		start = time.Date(y, m, d-back, 0, 0, 0, 0, loc)
		end = time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
	case PeriodMonth:
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	default:
		start = time.Date(y, m, d, 0, 0, 0, 0, loc)
		end = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	return start, end
}

// QuotaPeriodZone is the zone periods start in (QuotaPeriodTimeZone).
func QuotaPeriodZone(o *OptionSnapshot) *time.Location {
	return o.parsed.PeriodZone
}

// Fill sets PeriodResetAt and, when the row's count belongs to a period
// that is over, PeriodUsed 0, as of now.
func (p *Period) Fill(now time.Time, loc *time.Location) {
	if p.PeriodQuota <= 0 || p.QuotaPeriod == "" {
		p.PeriodResetAt = 0
		return
	}
	start, end := PeriodBounds(p.QuotaPeriod, now, loc)
	if p.PeriodStart != start.Unix() {
		p.PeriodUsed = 0
	}
	p.PeriodResetAt = end.Unix()
}

// Error codes of a refused call whose period quota is used up.
const (
	CodeTokenPeriodExhausted = "token_period_quota_exhausted"
	CodeUserPeriodExhausted  = "user_period_quota_exhausted"
)

var periodAdjective = map[string]string{PeriodDay: "daily", PeriodWeek: "weekly", PeriodMonth: "monthly"}

// periodExhausted is the refusal of a call whose period balance is empty:
// which balance, and when it resets.
func periodExhausted(token bool, kind string, resetAt time.Time) *errs.Error {
	who, code := "your account's", CodeUserPeriodExhausted
	if token {
		who, code = "this token's", CodeTokenPeriodExhausted
	}
	return errs.New(http.StatusForbidden, errs.KindInsufficientQuota, "%s %s quota is used up; it resets at %s",
		who, periodAdjective[kind], resetAt.Format(time.RFC3339)).WithCode(code)
}

// periodConf is a subject's period quota as the ledger applies it.
type periodConf struct {
	quota int64
	kind  string
}

func (c periodConf) active() bool { return c.quota > 0 && c.kind != "" }

// periodNow is one subject's period at one instant.
type periodNow struct {
	conf       periodConf
	start, end time.Time
}

func (p periodNow) active() bool { return p.conf.active() }

// periodBal is a subject's period figures in the single-node ledger.
type periodBal struct {
	start    int64 // unix s of the counted period; 0 none yet
	used     int64
	reserved int64
}

// roll moves b to the period starting at start: a new period starts with
// nothing used and nothing held (holds of the old one are released at
// their settlement, against the old period).
func (b *periodBal) roll(start int64) {
	if b.start != start {
		b.start, b.used, b.reserved = start, 0, 0
	}
}

// periodConfs caches the period quota of users and tokens, per node.
type periodConfs struct {
	mu     sync.Mutex
	users  map[int]periodConf
	tokens map[int]periodConf
}

func (l *Ledger) initPeriods() {
	l.pconf.users, l.pconf.tokens = map[int]periodConf{}, map[int]periodConf{}
	if l.store.Bus == nil {
		return
	}
	for topic, m := range map[string]*map[int]periodConf{TopicUser: &l.pconf.users, TopicToken: &l.pconf.tokens} {
		m := m
		l.store.Bus.Subscribe(topic, func(key string) {
			l.pconf.mu.Lock()
			defer l.pconf.mu.Unlock()
			if key == "*" {
				*m = map[int]periodConf{}
				return
			}
			id, _ := strconv.Atoi(key)
			delete(*m, id)
		})
	}
}

// SetClock sets where the ledger takes the time from (tests move it across
// a reset); nil restores the wall clock.
func (l *Ledger) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	l.clock.Store(&now)
}

// Now is the ledger's time.
func (l *Ledger) Now() time.Time {
	if f := l.clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// FlushPeriodConfs drops the cached period quotas (the SYNC_FREQUENCY
// safety net).
func (l *Ledger) FlushPeriodConfs() {
	l.pconf.mu.Lock()
	l.pconf.users, l.pconf.tokens = map[int]periodConf{}, map[int]periodConf{}
	l.pconf.mu.Unlock()
}

// periodConf returns a user's (token false) or a token's period quota,
// reading the row on a miss.
func (l *Ledger) periodConf(ctx context.Context, token bool, id int) (periodConf, error) {
	l.pconf.mu.Lock()
	m := l.pconf.users
	if token {
		m = l.pconf.tokens
	}
	c, ok := m[id]
	l.pconf.mu.Unlock()
	if ok {
		return c, nil
	}
	var p Period
	var err error
	if token {
		err = l.store.DB.WithContext(ctx).Model(&Token{}).Select("period_quota", "quota_period").Where("id = ?", id).Take(&p).Error
	} else {
		err = l.store.DB.WithContext(ctx).Model(&User{}).Select("period_quota", "quota_period").Where("id = ?", id).Take(&p).Error
	}
	if err != nil {
		if notFound(err) {
			if token {
				return c, ErrTokenNotFound
			}
			return c, ErrUserNotFound
		}
		return c, errs.Internal(err)
	}
	c = periodConf{quota: p.PeriodQuota, kind: p.QuotaPeriod}
	l.pconf.mu.Lock()
	if token {
		l.pconf.tokens[id] = c
	} else {
		l.pconf.users[id] = c
	}
	l.pconf.mu.Unlock()
	return c, nil
}

// accountPeriods are the user's and the token's periods for acct at now.
type accountPeriods struct {
	user, token periodNow
}

// periodsOf looks up acct's period quotas and places them at now.
func (l *Ledger) periodsOf(ctx context.Context, acct Account, now time.Time) (accountPeriods, error) {
	var ap accountPeriods
	loc := QuotaPeriodZone(l.store.Options.Get())
	uc, err := l.periodConf(ctx, false, acct.UserID)
	if err != nil {
		return ap, err
	}
	ap.user.conf = uc
	if uc.active() {
		ap.user.start, ap.user.end = PeriodBounds(uc.kind, now, loc)
	}
	if acct.TokenID != 0 {
		tc, err := l.periodConf(ctx, true, acct.TokenID)
		if err != nil {
			return ap, err
		}
		ap.token.conf = tc
		if tc.active() {
			ap.token.start, ap.token.end = PeriodBounds(tc.kind, now, loc)
		}
	}
	return ap, nil
}

// startOf is p's start in unix seconds, 0 when p is not active.
func (p periodNow) startOf() int64 {
	if !p.active() {
		return 0
	}
	return p.start.Unix()
}

// reservePeriodsMemory caps amount at what the active periods have left,
// or refuses; the balances are locked. It does not change them.
func reservePeriodsMemory(u, t *balance, ap accountPeriods, amount int64) (int64, error) {
	for _, x := range []struct {
		b     *balance
		p     periodNow
		token bool
	}{{u, ap.user, false}, {t, ap.token, true}} {
		if x.b == nil || !x.p.active() {
			continue
		}
		x.b.per.roll(x.p.start.Unix())
		left := x.p.conf.quota - x.b.per.used - x.b.per.reserved
		if left <= 0 {
			return 0, periodExhausted(x.token, x.p.conf.kind, x.p.end)
		}
		amount = min(amount, left)
	}
	return amount, nil
}

// holdPeriodsMemory holds amount against the active periods.
func holdPeriodsMemory(u, t *balance, ap accountPeriods, amount int64) {
	if ap.user.active() {
		u.per.reserved += amount
	}
	if t != nil && ap.token.active() {
		t.per.reserved += amount
	}
}

// settlePeriodsMemory releases r's period holds, caps charged at what the
// periods of settlement time have left and charges them; the balances are
// locked. It returns the charge.
func settlePeriodsMemory(u, t *balance, r *Reservation, ap accountPeriods, charged int64) int64 {
	held := [2]int64{r.periods[0], r.periods[1]}
	for i, x := range []struct {
		b *balance
		p periodNow
	}{{u, ap.user}, {t, ap.token}} {
		if x.b == nil {
			continue
		}
		if held[i] != 0 && x.b.per.start == held[i] {
			x.b.per.reserved -= r.amount
		}
		if !x.p.active() {
			continue
		}
		x.b.per.roll(x.p.start.Unix())
		charged = min(charged, max(x.p.conf.quota-x.b.per.used-x.b.per.reserved, 0))
	}
	if ap.user.active() {
		u.per.used += charged
	}
	if t != nil && ap.token.active() {
		t.per.used += charged
	}
	return charged
}

// ResetPeriod starts a fresh period count for a user (tokenID 0) or a
// token whose quota_period changed: the row was reset by the caller.
func (l *Ledger) ResetPeriod(ctx context.Context, userID, tokenID int) {
	m, id := l.users, userID
	if tokenID != 0 {
		m, id = l.tokens, tokenID
	}
	l.mu.Lock()
	b := m[id]
	l.mu.Unlock()
	if b != nil {
		// The count starts afresh; the holds stay, each released by its
		// settlement (a new kind with another start rolls them off).
		b.mu.Lock()
		b.per.used = 0
		b.mu.Unlock()
	}
	if l.shared != nil {
		// Drop the current keys of every kind: the next reservation seeds
		// the new period from the (reset) row.
		loc := QuotaPeriodZone(l.store.Options.Get())
		now := l.Now()
		for _, kind := range []string{PeriodDay, PeriodWeek, PeriodMonth} {
			start, _ := PeriodBounds(kind, now, loc)
			l.shared.reseed(l.shared.periodKey(tokenID != 0, id, start.Unix()))
		}
	}
}

// periodFigures is what the ledger holds of a subject's current period
// (single node): used and start; ok false when not loaded.
func (l *Ledger) periodFigures(token bool, id int) (used, start int64, ok bool) {
	m := l.users
	if token {
		m = l.tokens
	}
	l.mu.Lock()
	b := m[id]
	l.mu.Unlock()
	if b == nil {
		return 0, 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.per.used, b.per.start, b.loaded
}

// overlayPeriod fills a reply's period fields as of the ledger's clock.
func (l *Ledger) overlayPeriod(token bool, id int, p *Period) {
	if l.shared == nil {
		if used, start, ok := l.periodFigures(token, id); ok && start != 0 {
			p.PeriodUsed, p.PeriodStart = used, start
		}
	}
	p.Fill(l.Now(), QuotaPeriodZone(l.store.Options.Get()))
}

// periodKey is the Redis balance of a user's or a token's period.
func (sb *sharedBalances) periodKey(token bool, id int, start int64) string {
	kind := "up:"
	if token {
		kind = "tp:"
	}
	return sb.prefix + kind + strconv.Itoa(id) + ":" + strconv.FormatInt(start, 10)
}

// periodKeys are the Redis keys (or the "none" key) and quotas of acct's
// periods, in the order the scripts take them: user, token.
func (sb *sharedBalances) periodKeys(acct Account, ap accountPeriods) (keys [2]string, quotas [2]int64) {
	keys = [2]string{sb.prefix + "none", sb.prefix + "none"}
	if ap.user.active() {
		keys[0], quotas[0] = sb.periodKey(false, acct.UserID, ap.user.start.Unix()), ap.user.conf.quota
	}
	if acct.TokenID != 0 && ap.token.active() {
		keys[1], quotas[1] = sb.periodKey(true, acct.TokenID, ap.token.start.Unix()), ap.token.conf.quota
	}
	return keys, quotas
}

// seedPeriods seeds acct's active period keys: the "row" is minus the
// row's period_used when its period_start is the period, else 0.
func (sb *sharedBalances) seedPeriods(ctx context.Context, acct Account, ap accountPeriods) error {
	for _, x := range []struct {
		p     periodNow
		id    int
		token bool
	}{{ap.user, acct.UserID, false}, {ap.token, acct.TokenID, true}} {
		if !x.p.active() || x.id == 0 {
			continue
		}
		start := x.p.start.Unix()
		ttl := int64(x.p.end.Sub(sb.l.Now())/time.Second) + 86400
		if ttl < 86400 {
			ttl = 86400
		}
		err := sb.seedOne(ctx, sb.periodKey(x.token, x.id, start), ttl, func() (int64, error) {
			var p Period
			q := sb.l.store.DB.WithContext(ctx).Select("period_used", "period_start").Where("id = ?", x.id)
			var err error
			if x.token {
				err = q.Model(&Token{}).Take(&p).Error
			} else {
				err = q.Model(&User{}).Take(&p).Error
			}
			if err != nil {
				if notFound(err) {
					if x.token {
						return 0, ErrTokenNotFound
					}
					return 0, ErrUserNotFound
				}
				return 0, err
			}
			if p.PeriodStart == start {
				return -p.PeriodUsed, nil
			}
			return 0, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// periodSQL adds a batch's charge for the period starting at start to a
// row: into the count when the row is in that period, as the new count
// when the row's is older, not at all when the row's is later. period_used
// is assigned first: MySQL evaluates SET left to right with new values.
func periodSQL(table string) string {
	return fmt.Sprintf(`UPDATE %s SET period_used = CASE WHEN period_start = ? THEN period_used + ? WHEN period_start < ? THEN ? ELSE period_used END, `+
		`period_start = CASE WHEN period_start < ? THEN ? ELSE period_start END WHERE id = ?`, table)
}

// settledPeriods mirrors the settle script's period moves in outstanding
// (online only: offline, settleLocal moves quota between a lease and the
// same resv field, which outstanding does not see); sb.mu is held.
func (sb *sharedBalances) settledPeriods(pheld [2]string, held [2]string, pnow [2]string, pquotas [2]int64, r, charged int64) {
	move := func(k string, d int64) {
		sb.outstanding[k] += d
		if sb.outstanding[k] == 0 {
			delete(sb.outstanding, k)
		}
	}
	for i := range 2 {
		if held[i] == "1" {
			move(pheld[i], -r)
		}
		if pquotas[i] > 0 {
			move(pnow[i], charged)
		}
	}
}

// addPeriod adds c to m[start], making m when needed.
func addPeriod(m map[int64]int64, start, c int64) map[int64]int64 {
	if m == nil {
		m = map[int64]int64{}
	}
	m[start] += c
	return m
}

// applyPeriods writes a batch's period charges to one row, oldest period
// first.
func applyPeriods(tx *gorm.DB, table string, id int, periods map[int64]int64) error {
	if len(periods) == 0 {
		return nil
	}
	starts := make([]int64, 0, len(periods))
	for s := range periods {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	for _, s := range starts {
		c := periods[s]
		if err := tx.Exec(periodSQL(table), s, c, s, c, s, s, id).Error; err != nil {
			return err
		}
	}
	return nil
}

// flushedPeriods adds to moved what a batch's period charges took out of
// this node's resv hash: they are in the rows now.
func (sb *sharedBalances) flushedPeriods(b *batch, moved map[string]int64) {
	for id, d := range b.d.Users {
		for start, c := range d.Periods {
			if c != 0 {
				moved[sb.periodKey(false, id, start)] -= c
			}
		}
	}
	for id, d := range b.d.Tokens {
		for start, c := range d.Periods {
			if c != 0 {
				moved[sb.periodKey(true, id, start)] -= c
			}
		}
	}
}

// recoveredPeriods places an orphaned checkpoint's charge, logged at at,
// in the account's periods of that time and caps it at what their rows
// have left.
func (l *Ledger) recoveredPeriods(ctx context.Context, acct Account, at time.Time, charged int64) ([2]int64, int64, error) {
	var periods [2]int64
	ap, err := l.periodsOf(ctx, acct, at)
	if err != nil {
		if errs.As(err).Status == http.StatusNotFound {
			return periods, charged, nil
		}
		return periods, 0, err
	}
	for i, p := range []periodNow{ap.user, ap.token} {
		if !p.active() {
			continue
		}
		var row Period
		q := l.store.DB.WithContext(ctx).Select("period_used", "period_start")
		if i == 0 {
			err = q.Model(&User{}).Where("id = ?", acct.UserID).Take(&row).Error
		} else {
			err = q.Model(&Token{}).Where("id = ?", acct.TokenID).Take(&row).Error
		}
		if err != nil && !notFound(err) {
			return periods, 0, err
		}
		used := int64(0)
		if row.PeriodStart == p.start.Unix() {
			used = row.PeriodUsed
		}
		charged = min(charged, max(p.conf.quota-used, 0))
		periods[i] = p.start.Unix()
	}
	return periods, charged, nil
}

// debitRecoveredPeriods counts a recovered charge in the single-node
// ledger's period figures.
func (l *Ledger) debitRecoveredPeriods(acct Account, charged int64, periods [2]int64) {
	for i, start := range periods {
		if start == 0 {
			continue
		}
		m, id := l.users, acct.UserID
		if i == 1 {
			m, id = l.tokens, acct.TokenID
		}
		l.mu.Lock()
		b := m[id]
		l.mu.Unlock()
		if b == nil {
			continue
		}
		b.mu.Lock()
		if b.loaded && b.per.start < start {
			b.per.roll(start)
		}
		if b.loaded && b.per.start == start {
			b.per.used += charged
		}
		b.mu.Unlock()
	}
}

// FillPeriod sets a reply's PeriodResetAt (and a stale PeriodUsed) as of
// the ledger's clock in the QuotaPeriodTimeZone zone.
func (l *Ledger) FillPeriod(p *Period) { p.Fill(l.Now(), QuotaPeriodZone(l.store.Options.Get())) }
