package relay

import "context"

// Account names whose balances a call spends: the user's and, unless it is
// unlimited, the token's.
type Account struct {
	UserID         int
	TokenID        int
	UnlimitedToken bool
}

// Consume is the consume log of one served call, as the relay knows it;
// the ledger adds who and when.
type Consume struct {
	UserID           int
	Username         string
	TokenID          int
	TokenName        string
	ModelName        string
	ChannelID        int
	PromptTokens     int
	CompletionTokens int
	Quota            int64
	ElapsedMs        int64
	FirstTokenMs     int64
	IsStream         bool
	RequestID        string
	IP               string
	Content          string
}

// Ledger reserves quota before a call goes upstream.
type Ledger interface {
	// Reserve holds estimate quota (or what is left, if less) on acct. It
	// fails with an *errs.Error when a balance is empty.
	Reserve(ctx context.Context, acct Account, estimate int64) (Reservation, error)
}

// Reservation is held quota, settled exactly once.
type Reservation interface {
	// Settle charges cost and writes log; cost 0 with a nil log releases
	// the reservation (the call failed). It returns what was charged.
	Settle(cost int64, log *Consume) int64
}
