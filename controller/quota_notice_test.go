package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestLowQuotaIsMailedOnceUntilTheNextCredit: with QuotaRemindThreshold
// set, the call that takes a user's quota below it gets them one mail
// with the amount left and the top-up link; later calls below it send
// none, and a credit (here an admin's) arms the notice again.
func TestLowQuotaIsMailedOnceUntilTheNextCredit(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		const threshold = 100_000
		f := newRelayFixture(t, app, threshold+1, nil)
		mails := f.root.StartMail()
		if err := app.Store.DB.Model(&model.User{}).Where("id = ?", f.user.UserID).Update("email", "low@example.com").Error; err != nil {
			t.Fatal(err)
		}
		f.root.Do("PUT", "/api/option/", map[string]any{"key": "QuotaRemindThreshold", "value": "-1"}).WantFail(t, 400, "")
		f.root.Do("PUT", "/api/option/", map[string]any{"key": "QuotaRemindThreshold", "value": "lots"}).WantFail(t, 400, "")
		f.option(t, "QuotaRemindThreshold", fmt.Sprint(threshold))
		f.option(t, "ServerAddress", "https://relay.example/")
		f.channel(t, map[string]any{"name": "c", "base_url": up.URL, "models": "gpt-4o-mini"})
		c := f.client(f.tok.Key)
		user := func() model.User {
			var u model.User
			app.Store.DB.First(&u, f.user.UserID)
			return u
		}
		call := func() model.User {
			t.Helper()
			if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
				t.Fatal(err)
			}
			app.Settle(t)
			return user()
		}
		wantMail := func(u model.User) {
			t.Helper()
			m := mails.Next(t)
			body := m.Text()
			if m.To[0] != "low@example.com" || m.Header("Subject") != "Switchyard: your quota is running low" ||
				!strings.Contains(body, fmt.Sprintf(": %d (about $", u.Quota)) || !strings.Contains(body, "https://relay.example/topup") {
				t.Fatalf("mail to %v %q:\n%s", m.To, m.Header("Subject"), body)
			}
		}

		u := call()
		if u.Quota >= threshold || !u.QuotaNoticed {
			t.Fatalf("after the call that crossed: quota %d, noticed %v", u.Quota, u.QuotaNoticed)
		}
		wantMail(u)
		if u2 := call(); !u2.QuotaNoticed {
			t.Fatal("the notice was re-armed by a charge")
		}
		// An admin's credit arms it again; the next call below tells again.
		f.root.Do("PUT", "/api/user/", map[string]any{"id": f.user.UserID, "quota": threshold + 1}).Want(t, 200, true)
		if user().QuotaNoticed {
			t.Fatal("a credit left the notice claimed")
		}
		u = call()
		wantMail(u)
		// The ledger's sums hold with the notices in between.
		var logs int64
		app.Store.LogDB.Model(&model.Log{}).Where("user_id = ? AND type = ?", u.ID, model.LogConsume).Select("COALESCE(SUM(quota),0)").Scan(&logs)
		if u.UsedQuota != logs || u.Quota < 0 {
			t.Fatalf("quota %d used %d consume logs %d", u.Quota, u.UsedQuota, logs)
		}
	})
}
