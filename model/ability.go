package model

import (
	"context"
	"log/slog"

	"gorm.io/gorm"

	"switchyard/common/errs"
)

// Ability says that a channel serves a model to a group: One API's table,
// one row per (group, model, channel). It is derived from the channel row
// and rebuilt in the same transaction whenever the channel changes, so
// SQL reports (and One API tooling) can query who serves what.
type Ability struct {
	Group     string `gorm:"column:group;primaryKey;size:32;autoIncrement:false" json:"group"`
	Model     string `gorm:"primaryKey;size:255;autoIncrement:false" json:"model"`
	ChannelID int    `gorm:"primaryKey;index;autoIncrement:false" json:"channel_id"`
	Enabled   bool   `gorm:"not null" json:"enabled"`
	Priority  int64  `gorm:"not null;default:0;index" json:"priority"`
	Weight    int    `gorm:"not null;default:0" json:"weight"`
}

// abilitiesOf lists the abilities a channel row implies.
func abilitiesOf(ch *Channel) []Ability {
	groups, models := ch.GroupList(), ch.ModelList()
	out := make([]Ability, 0, len(groups)*len(models))
	for _, g := range groups {
		for _, m := range models {
			out = append(out, Ability{Group: g, Model: m, ChannelID: ch.ID, Enabled: ch.Status == ChannelEnabled, Priority: ch.Priority, Weight: ch.Weight})
		}
	}
	return out
}

// rebuildAbilities replaces ch's abilities inside tx.
func rebuildAbilities(tx *gorm.DB, ch *Channel) error {
	if err := tx.Where("channel_id = ?", ch.ID).Delete(&Ability{}).Error; err != nil {
		return err
	}
	rows := abilitiesOf(ch)
	if len(rows) == 0 {
		return nil
	}
	return tx.CreateInBatches(rows, 200).Error
}

// FixAbilities rebuilds the abilities table from the channels (POST
// /api/channel/fix, new-api's repair): rows edited by hand, left by an
// older build or brought over with a One API database are replaced with
// what each channel implies, and rows of channels that are gone are
// removed. Each channel's rows change in a transaction of their own, so a
// channel that fails keeps its old rows whole; it returns how many
// channels were rebuilt and how many failed. The relay is not affected
// either way: it selects from the in-memory index built from the channels.
func (s *Store) FixAbilities(ctx context.Context) (fixed, failed int, err error) {
	db := s.DB.WithContext(ctx)
	var channels []Channel
	if err := db.Select("id", "status", "models", "group", "priority", "weight").Find(&channels).Error; err != nil {
		return 0, 0, errs.Internal(err)
	}
	if err := db.Where("channel_id NOT IN (?)", db.Model(&Channel{}).Select("id")).Delete(&Ability{}).Error; err != nil {
		return 0, 0, errs.Internal(err)
	}
	for i := range channels {
		if err := db.Transaction(func(tx *gorm.DB) error { return rebuildAbilities(tx, &channels[i]) }); err != nil {
			if ctx.Err() != nil {
				return fixed, failed, errs.Internal(ctx.Err())
			}
			slog.Warn("abilities not rebuilt", "channel", channels[i].ID, "err", err)
			failed++
			continue
		}
		fixed++
	}
	return fixed, failed, nil
}
