package middleware_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"switchyard/common/errs"
	"switchyard/internal/testkit"
	"switchyard/middleware"
	"switchyard/model"
)

func TestTokenAuth(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		s := app.Store
		ctx := context.Background()
		gin.SetMode(gin.ReleaseMode)
		r := gin.New()
		r.Use(middleware.RequestID(), middleware.Style(errs.StyleOpenAI), middleware.TokenAuth{Store: s}.Check())
		r.GET("/v1/whoami", func(c *gin.Context) {
			c.JSON(200, gin.H{"token": middleware.TokenOf(c).ID, "user": c.GetInt(middleware.KeyUserID),
				"group": c.GetString(middleware.KeyGroup), "pinned": c.GetInt(middleware.KeyPinnedChannel)})
		})
		srv := httptest.NewServer(r)
		defer srv.Close()

		mk := func(role int, tok model.Token) (*model.User, string, int) {
			u := &model.User{Username: testkit.Name("ta"), Password: "x", Role: role}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Ledger.Credit(ctx, u.ID, 0, 1000, nil, nil); err != nil {
				t.Fatal(err)
			}
			tok.UserID = u.ID
			if tok.ExpiredTime == 0 {
				tok.ExpiredTime = -1
			}
			key := model.NewTokenKey(&tok)
			if err := s.CreateToken(ctx, &tok); err != nil {
				t.Fatal(err)
			}
			return u, key, tok.ID
		}
		call := func(header, value string) (int, map[string]any) {
			req, _ := http.NewRequest("GET", srv.URL+"/v1/whoami", nil)
			if header != "" {
				req.Header.Set(header, value)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode, body
		}
		errType := func(body map[string]any) string {
			e, _ := body["error"].(map[string]any)
			s, _ := e["type"].(string)
			return s
		}

		user, key, tokID := mk(model.RoleCommon, model.Token{Name: "ok", RemainQuota: 100, Group: ""})
		for _, h := range [][2]string{{"Authorization", "Bearer " + key}, {"x-api-key", key}, {"Authorization", "Bearer " + key[3:]}} {
			status, body := call(h[0], h[1])
			if status != 200 || int(body["token"].(float64)) != tokID || int(body["user"].(float64)) != user.ID || body["group"] != "default" {
				t.Fatalf("%s: %d %v", h[0], status, body)
			}
		}
		if status, body := call("", ""); status != 401 || errType(body) != "authentication_error" {
			t.Fatalf("no key: %d %v", status, body)
		}
		if status, body := call("Authorization", "Bearer sk-nope' OR '1'='1"); status != 401 || errType(body) != "authentication_error" {
			t.Fatalf("bad key: %d %v", status, body)
		}

		// A user may not pin a channel; an admin may.
		if status, _ := call("Authorization", "Bearer "+key+"-7"); status != 403 {
			t.Fatalf("common user pinned a channel: %d", status)
		}
		_, adminKey, _ := mk(model.RoleAdmin, model.Token{Name: "adm", UnlimitedQuota: true, Group: "vip"})
		if status, body := call("Authorization", "Bearer "+adminKey+"-7"); status != 200 || body["pinned"].(float64) != 7 || body["group"] != "vip" {
			t.Fatalf("admin pin: %d %v", status, body)
		}

		// Disabled, expired, exhausted and wrong-network tokens are refused.
		_, disabledKey, _ := mk(model.RoleCommon, model.Token{Name: "off", RemainQuota: 5, Status: model.TokenDisabled})
		if status, _ := call("Authorization", "Bearer "+disabledKey); status != 401 {
			t.Fatalf("disabled token: %d", status)
		}
		_, expiringKey, expiringID := mk(model.RoleCommon, model.Token{Name: "exp", RemainQuota: 5, ExpiredTime: time.Now().Add(time.Hour).Unix()})
		if status, _ := call("Authorization", "Bearer "+expiringKey); status != 200 {
			t.Fatalf("live token: %d", status)
		}
		s.DB.Model(&model.Token{}).Where("id = ?", expiringID).Update("expired_time", time.Now().Add(-time.Minute).Unix())
		s.Bus.Publish(ctx, model.TopicToken, strconv.Itoa(expiringID))
		if status, body := call("Authorization", "Bearer "+expiringKey); status != 401 || !contains(body, "expired") {
			t.Fatalf("expired token: %d %v", status, body)
		}
		// The refusal flipped the row in the background; the sweep would
		// have, too. Wait for it with a deadline.
		if _, err := s.SweepExpiredTokens(ctx); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 10*time.Second, "expired token's status flips to 3", func() bool {
			var row model.Token
			s.DB.First(&row, expiringID)
			return row.Status == model.TokenExpired
		})

		ownerOfSmall, smallKey, smallID := mk(model.RoleCommon, model.Token{Name: "small", RemainQuota: 10})
		res, err := s.Ledger.Reserve(ctx, model.Account{UserID: ownerOfSmall.ID, TokenID: smallID}, 10)
		if err != nil {
			t.Fatal(err)
		}
		res.Settle(10, &model.Log{ModelName: "m"})
		// The flush marks the token exhausted and invalidates its cache
		// entry (with Redis, auth does not ask the balance itself).
		if err := s.Ledger.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if status, body := call("Authorization", "Bearer "+smallKey); status != 403 || errType(body) != "insufficient_quota" {
			t.Fatalf("exhausted token: %d %v", status, body)
		}

		_, netKey, _ := mk(model.RoleCommon, model.Token{Name: "net", RemainQuota: 10, Subnet: "10.0.0.0/8"})
		if status, _ := call("Authorization", "Bearer "+netKey); status != 403 {
			t.Fatalf("token used from outside its subnet: %d", status)
		}

		// A disabled owner's tokens stop at once.
		if err := s.UpdateUserFields(ctx, user.ID, map[string]any{"status": model.UserDisabled}); err != nil {
			t.Fatal(err)
		}
		if status, _ := call("Authorization", "Bearer "+key); status != 403 {
			t.Fatalf("disabled owner's token: %d", status)
		}
	})
}

func contains(body map[string]any, s string) bool {
	b, _ := json.Marshal(body)
	return strings.Contains(string(b), s)
}
