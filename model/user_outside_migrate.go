package model

import (
	"fmt"
	"log/slog"

	"gorm.io/gorm"
)

// outsideIndexes are the outside-id columns with the unique index they
// have now and the plain one they had before, when unbound users held an
// empty string (and two first sign-ins racing could bind one account
// twice).
var outsideIndexes = []struct{ column, unique, old string }{
	{OutsideGitHub, "uidx_users_github_id", "idx_users_github_id"},
	{OutsideOIDC, "uidx_users_oidc_id", "idx_users_oidc_id"},
	// wechat_id was kept as a plain column before WeChat sign-in came;
	// lark_id is new here, but a database moved from One API has it,
	// '' for unbound, with One API's plain index.
	{OutsideWeChat, "uidx_users_wechat_id", "idx_users_wechat_id"},
	{OutsideLark, "uidx_users_lark_id", "idx_users_lark_id"},
}

// beforeAutoMigrate readies an older users table for the unique indexes
// AutoMigrate is about to create (migrate calls it).
func (*User) beforeAutoMigrate(db *gorm.DB) error { return migrateOutsideIDs(db) }

// afterAutoMigrate gives the outside-id columns a binary collation on
// MySQL and MariaDB (migrate calls it). Their default collations ignore
// case, so two outside accounts whose ids differ only in case (a WeChat
// openid, an OpenID Connect sub; both are case-sensitive) would be one
// account here: whoever signed in second would reach the first one's.
// SQLite's and PostgreSQL's = already compare bytes. A column already
// binary is left alone, so a later start does nothing.
func (*User) afterAutoMigrate(db *gorm.DB) error { return binaryOutsideIDs(db) }

// outsideSizes are the outside-id columns' lengths, as their tags say.
var outsideSizes = map[string]int{OutsideGitHub: 64, OutsideOIDC: 255, OutsideWeChat: 64, OutsideLark: 64}

func binaryOutsideIDs(db *gorm.DB) error {
	if db.Dialector.Name() != "mysql" {
		return nil
	}
	for _, col := range outsideColumns {
		var collation string
		err := db.Raw("SELECT COALESCE(COLLATION_NAME, '') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = ?", col).
			Scan(&collation).Error
		if err != nil {
			return fmt.Errorf("users.%s: read its collation: %w", col, err)
		}
		if collation == "" || collation == "utf8mb4_bin" {
			continue
		}
		stmt := fmt.Sprintf("ALTER TABLE users MODIFY %s VARCHAR(%d) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL", col, outsideSizes[col])
		if err := db.Exec(stmt).Error; err != nil {
			return fmt.Errorf("users.%s: make it compare case: %w", col, err)
		}
	}
	return nil
}

// migrateOutsideIDs brings each outside-id column that lacks its unique
// index to a shape the index accepts: empty ids become NULL (unbound); an
// outside account bound to several users (the race happened) stays on
// the lowest user id and the others are unbound, each named in a warning
// (they can still sign in with a password, or bind again); the old plain
// index is dropped. AutoMigrate then creates the unique index, and once
// it exists a later start does nothing here. A start that stops half way
// redoes it all: every step finds its work done or does it again.
func migrateOutsideIDs(db *gorm.DB) error {
	m := db.Migrator()
	if !m.HasTable(&User{}) {
		return nil
	}
	for _, ix := range outsideIndexes {
		if !m.HasColumn(&User{}, ix.column) || m.HasIndex(&User{}, ix.unique) {
			continue
		}
		type unbound struct {
			id, keptOn          int
			username, outsideID string
		}
		var cleared []unbound
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("UPDATE users SET " + ix.column + " = NULL WHERE " + ix.column + " = ''").Error; err != nil {
				return err
			}
			var dups []struct {
				OutsideID string
				KeepID    int
			}
			if err := tx.Raw("SELECT " + ix.column + " AS outside_id, MIN(id) AS keep_id FROM users WHERE " + ix.column +
				" IS NOT NULL GROUP BY " + ix.column + " HAVING COUNT(*) > 1").Scan(&dups).Error; err != nil {
				return err
			}
			for _, d := range dups {
				var losers []User
				if err := tx.Select("id", "username").Where(ix.column+" = ? AND id <> ?", d.OutsideID, d.KeepID).Order("id").Find(&losers).Error; err != nil {
					return err
				}
				for _, u := range losers {
					if err := tx.Exec("UPDATE users SET "+ix.column+" = NULL WHERE id = ?", u.ID).Error; err != nil {
						return err
					}
					cleared = append(cleared, unbound{id: u.ID, keptOn: d.KeepID, username: u.Username, outsideID: d.OutsideID})
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("users.%s: unbind '' and duplicates: %w", ix.column, err)
		}
		for _, c := range cleared {
			slog.Warn("outside account was bound to several users: kept on the lowest id and unbound from this one, which can still sign in with a password or bind again",
				"column", ix.column, "outside_id", c.outsideID, "user_id", c.id, "username", c.username, "kept_on_user_id", c.keptOn)
		}
		if m.HasIndex(&User{}, ix.old) {
			if err := m.DropIndex(&User{}, ix.old); err != nil {
				return fmt.Errorf("users.%s: drop %s: %w", ix.column, ix.old, err)
			}
		}
	}
	return nil
}
