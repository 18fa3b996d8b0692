package model

import (
	"gorm.io/gorm"
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
