package model

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchyard/common/crypto"
	"switchyard/common/errs"
)

// Redemption statuses, as in One API.
const (
	RedemptionEnabled  = 1
	RedemptionDisabled = 2
	RedemptionUsed     = 3
)

// RedemptionKeyLen is the length of a redemption code.
const RedemptionKeyLen = 32

// Redemption is a code worth Quota, redeemable once. Codes are kept in
// clear, as in One API, because admins copy them out of the list to hand
// them over.
type Redemption struct {
	ID           int    `gorm:"primaryKey" json:"id"`
	UserID       int    `gorm:"index" json:"user_id"`
	Key          string `gorm:"column:key;uniqueIndex;size:32;not null" json:"key"`
	Status       int    `gorm:"not null;default:1" json:"status"`
	Name         string `gorm:"index;size:64" json:"name"`
	Quota        int64  `gorm:"not null;default:0" json:"quota"`
	CreatedTime  int64  `json:"created_time"`
	RedeemedTime int64  `json:"redeemed_time"`
	UsedUserID   int    `json:"used_user_id"`
}

func init() { registerModels(&Redemption{}) }

// ErrRedemptionNotFound answers for unknown redemption ids.
var ErrRedemptionNotFound = errs.NotFound("redemption code not found")

// CreateRedemptions makes count codes named name worth quota each, all in
// one transaction, and returns them.
func (s *Store) CreateRedemptions(ctx context.Context, creatorID int, name string, quota int64, count int) ([]Redemption, error) {
	now := time.Now().Unix()
	rows := make([]Redemption, count)
	for i := range rows {
		rows[i] = Redemption{UserID: creatorID, Key: crypto.RandomString(RedemptionKeyLen), Status: RedemptionEnabled, Name: name, Quota: quota, CreatedTime: now}
	}
	var creator User
	s.DB.WithContext(ctx).Select("id", "username").First(&creator, creatorID)
	var staged []stagedLog
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&rows).Error; err != nil {
			return err
		}
		// Minting quota is an admin act root should see, logged with the
		// codes or not at all; the row moves no balance, so its Quota is
		// 0 and the ledger sums are untouched.
		var err error
		staged, err = s.logIn(tx, (&Log{UserID: creatorID, Username: creator.Username, Type: LogManage}).describe("codes_minted",
			map[string]any{"admin": creatorID, "count": count, "name": name, "quota": quota, "first": rows[0].ID, "last": rows[len(rows)-1].ID}))
		return err
	})
	if err != nil {
		return nil, errs.Internal(err)
	}
	s.Ledger.deliverStaged(ctx, staged)
	return rows, nil
}

// ListRedemptions pages through all codes, newest first, with the total.
func (s *Store) ListRedemptions(ctx context.Context, offset, limit int) ([]Redemption, int64, error) {
	var out []Redemption
	var total int64
	q := s.DB.WithContext(ctx).Model(&Redemption{})
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, errs.Internal(err)
	}
	if err := q.Order("id desc").Offset(offset).Limit(limit).Find(&out).Error; err != nil {
		return nil, 0, errs.Internal(err)
	}
	return out, total, nil
}

// SearchRedemptions matches codes by id or name, ignoring case.
func (s *Store) SearchRedemptions(ctx context.Context, keyword string, offset, limit int) ([]Redemption, error) {
	var out []Redemption
	q := s.DB.WithContext(ctx).Where("LOWER(name) LIKE ? ESCAPE '!'", strings.ToLower(likePattern(keyword)))
	if id, err := strconv.Atoi(keyword); err == nil {
		q = s.DB.WithContext(ctx).Where("id = ?", id).Or(q)
	}
	if err := q.Order("id desc").Offset(offset).Limit(limit).Find(&out).Error; err != nil {
		return nil, errs.Internal(err)
	}
	return out, nil
}

// RedemptionByID reads one code.
func (s *Store) RedemptionByID(ctx context.Context, id int) (*Redemption, error) {
	var r Redemption
	if err := s.DB.WithContext(ctx).First(&r, id).Error; err != nil {
		if notFound(err) {
			return nil, ErrRedemptionNotFound
		}
		return nil, errs.Internal(err)
	}
	return &r, nil
}

// UpdateRedemption writes fields of an unused code; a used code is final.
func (s *Store) UpdateRedemption(ctx context.Context, id int, fields map[string]any) error {
	res := s.DB.WithContext(ctx).Model(&Redemption{}).Where("id = ? AND status <> ?", id, RedemptionUsed).Updates(fields)
	if res.Error != nil {
		return errs.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		r, err := s.RedemptionByID(ctx, id)
		if err != nil {
			return err
		}
		if r.Status == RedemptionUsed {
			return errs.BadRequest("this code was already redeemed and can no longer change")
		}
	}
	return nil
}

// DeleteRedemption removes a code.
func (s *Store) DeleteRedemption(ctx context.Context, id int) error {
	res := s.DB.WithContext(ctx).Delete(&Redemption{}, id)
	if res.Error != nil {
		return errs.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrRedemptionNotFound
	}
	return nil
}

// DeleteInvalidRedemptions removes every code that can no longer be
// redeemed (used or disabled) and returns how many went. The consume and
// top-up logs keep the record of what was redeemed.
func (s *Store) DeleteInvalidRedemptions(ctx context.Context) (int64, error) {
	res := s.DB.WithContext(ctx).Where("status <> ?", RedemptionEnabled).Delete(&Redemption{})
	if res.Error != nil {
		return 0, errs.Internal(res.Error)
	}
	return res.RowsAffected, nil
}

// ErrRedemptionInvalid answers for unknown, disabled and used codes alike,
// so guessing tells nothing.
var ErrRedemptionInvalid = errs.BadRequest("this redemption code is invalid or has been used").WithCode("redemption_invalid")

// ErrRedeemOwnCode refuses an admin redeeming a code they created: minting
// quota for oneself is root's privilege alone (issue 13, defect 11).
var ErrRedeemOwnCode = errs.Forbidden("you created this code: hand it to someone else, or ask root")

// Redeemer is who redeems a code.
type Redeemer struct {
	ID       int
	Username string
	Role     int
}

// Redeem credits the code's quota to the redeemer exactly once: the code
// is marked used by a conditional update inside the crediting transaction,
// so of many racing requests exactly one wins and the rest change nothing.
// A code's creator may not redeem it unless they are root. When an admin
// or root redeems, the credit is logged as a manage record (root reads
// them in the log list); a common user's is a top-up record.
func (s *Store) Redeem(ctx context.Context, who Redeemer, key string) (int64, error) {
	var r Redemption
	if err := s.DB.WithContext(ctx).Where(map[string]any{"key": key, "status": RedemptionEnabled}).First(&r).Error; err != nil {
		if notFound(err) {
			return 0, ErrRedemptionInvalid
		}
		return 0, errs.Internal(err)
	}
	if r.UserID == who.ID && who.Role < RoleRoot {
		return 0, ErrRedeemOwnCode
	}
	now := time.Now().Unix()
	log := (&Log{UserID: who.ID, Username: who.Username, Type: LogTopUp}).describe("code_redeemed", map[string]any{"id": r.ID, "name": r.Name})
	if who.Role >= RoleAdmin {
		log.Type = LogManage
		log.describe("admin_redeemed_code", map[string]any{"admin": who.ID, "id": r.ID, "name": r.Name, "creator": r.UserID})
	}
	_, err := s.Ledger.Credit(ctx, who.ID, 0, r.Quota, log, func(tx *gorm.DB) error {
		res := tx.Model(&Redemption{}).Where("id = ? AND status = ?", r.ID, RedemptionEnabled).
			Updates(map[string]any{"status": RedemptionUsed, "redeemed_time": now, "used_user_id": who.ID})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrRedemptionInvalid
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return r.Quota, nil
}
