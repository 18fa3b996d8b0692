package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchyard/common/mail"
)

// A user whose quota falls below QuotaRemindThreshold is told by email,
// once, as One API does ("your quota is running low", or "used up" at
// zero), with the console's top-up link. The ledger's flush, which has
// just applied the batch's charges, looks at the users it charged; the
// notice is claimed by a conditional write of users.quota_noticed, so of
// several nodes flushing only one sends it, and a credit (a top-up, a
// redeemed code, an admin's change) clears it for the next time. The
// check is one query per flush and only while the option is above 0; the
// mail goes in the background, and a failed one is logged, not retried.

func init() {
	defineOptions(map[string]OptionDef{
		"QuotaRemindThreshold": {Kind: OptInt, Default: "0", Min: 0},
	})
}

// quotaNoticeTimeout bounds one notice's mail.
const quotaNoticeTimeout = 30 * time.Second

// remindLowQuota tells the users among ids whose quota is now below the
// threshold, and who have not been told since their last credit.
func (l *Ledger) remindLowQuota(ctx context.Context, ids []int) {
	snap := l.store.Options.Get()
	threshold := snap.Parsed().QuotaRemindThreshold
	if threshold <= 0 || len(ids) == 0 {
		return
	}
	var low []User
	err := l.store.DB.WithContext(ctx).Select("id", "email", "quota").
		Where("id IN ? AND quota < ? AND quota_noticed = ? AND email <> ''", ids, threshold, false).Find(&low).Error
	if err != nil {
		slog.Warn("quota notice: could not read the charged users", "err", err)
		return
	}
	for _, u := range low {
		res := l.store.DB.WithContext(ctx).Model(&User{}).Where("id = ? AND quota_noticed = ?", u.ID, false).Update("quota_noticed", true)
		if res.Error != nil || res.RowsAffected != 1 {
			continue // another node claimed it, or the write failed: not told twice
		}
		go l.sendQuotaNotice(snap, u)
	}
}

// sendQuotaNotice mails u the notice.
func (l *Ledger) sendQuotaNotice(snap *OptionSnapshot, u User) {
	ctx, cancel := context.WithTimeout(context.Background(), quotaNoticeTimeout)
	defer cancel()
	err := mail.Send(ctx, snap.MailSettings(), quotaNotice(snap, u))
	if err != nil && !errors.Is(err, mail.ErrNotConfigured) {
		slog.Warn("quota notice: mail failed", "user_id", u.ID, "err", err)
	}
}

// quotaNotice is the mail telling u their quota is low or used up.
func quotaNotice(snap *OptionSnapshot, u User) mail.Message {
	site := snap.String("SystemName")
	state := "is running low"
	if u.Quota <= 0 {
		state = "is used up"
	}
	left := fmt.Sprintf("%d", max(u.Quota, 0))
	if per := snap.Float("QuotaPerUnit"); per > 0 {
		left += fmt.Sprintf(" (about $%.2f)", float64(max(u.Quota, 0))/per)
	}
	link := strings.TrimRight(snap.String("ServerAddress"), "/") + "/topup"
	return mail.Message{
		To:      u.Email,
		Subject: fmt.Sprintf("%s: your quota %s", site, state),
		Body: fmt.Sprintf("Your quota on %s %s: %s left.\n\nTo keep your calls going, top up here:\n%s\n",
			site, state, left, link),
	}
}

// clearQuotaNotice re-arms the notice of user id after a credit, inside
// the credit's transaction.
func clearQuotaNotice(tx *gorm.DB, id int) error {
	return tx.Model(&User{}).Where("id = ? AND quota_noticed = ?", id, true).Update("quota_noticed", false).Error
}
