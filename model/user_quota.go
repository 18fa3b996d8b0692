package model

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// SetUserQuota sets a user's quota to quota through the ledger and logs
// the change as a manage record by adminID.
func (s *Store) SetUserQuota(ctx context.Context, userID int, quota int64, adminID int) error {
	current, _, ok := s.Ledger.UserFigures(userID)
	if !ok {
		u, err := s.userRow(ctx, userID)
		if err != nil {
			return err
		}
		current = u.Quota
	}
	delta := quota - current
	if delta == 0 {
		return nil
	}
	u, err := s.userRow(ctx, userID)
	if err != nil {
		return err
	}
	_, err = s.Ledger.Credit(ctx, userID, 0, delta, &Log{
		UserID: userID, Username: u.Username, Type: LogManage,
		Content: fmt.Sprintf("admin #%d set the quota from %d to %d", adminID, current, quota),
	}, nil)
	return err
}

// creditNewUser gives a new user QuotaForNewUser and, when invited,
// QuotaForInvitee, and the inviter QuotaForInviter, each with a log row.
// The new user's credits go in the creating transaction; the inviter's
// through the ledger once the user exists.
func creditNewUser(ctx context.Context, s *Store, tx *gorm.DB, u *User) error {
	snap := s.Options.Get()
	var logs []*Log
	add := func(q int64, what string) {
		if q > 0 {
			u.Quota += q
			logs = append(logs, &Log{UserID: u.ID, Username: u.Username, Type: LogSystem, Quota: q, Content: what})
		}
	}
	if u.Role >= RoleRoot {
		add(RootStartingQuota, "starting quota for root")
	}
	add(snap.Int("QuotaForNewUser"), "starting quota for a new user")
	if u.InviterID != 0 {
		add(snap.Int("QuotaForInvitee"), "reward for registering with an invite code")
	}
	if u.Quota == 0 {
		return nil
	}
	if err := tx.Model(&User{}).Where("id = ?", u.ID).Update("quota", u.Quota).Error; err != nil {
		return err
	}
	if s.LogDB == s.DB {
		return tx.Create(logs).Error
	}
	for _, l := range logs {
		if err := s.RecordLog(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// rewardInviter credits QuotaForInviter after an invited user is created.
func (s *Store) rewardInviter(ctx context.Context, u *User) error {
	q := s.Options.Get().Int("QuotaForInviter")
	if u.InviterID == 0 || q <= 0 {
		return nil
	}
	inviter, err := s.userRow(ctx, u.InviterID)
	if err != nil {
		return err
	}
	_, err = s.Ledger.Credit(ctx, inviter.ID, 0, q, &Log{
		UserID: inviter.ID, Username: inviter.Username, Type: LogSystem,
		Content: fmt.Sprintf("reward for inviting %s", u.Username),
	}, nil)
	return err
}

func init() { afterCreateUserHooks = append(afterCreateUserHooks, creditNewUser) }
