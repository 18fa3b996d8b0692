package controller_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"switchyard/internal/faultproxy"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// TestBlackHoledDatabaseAnswers503 is part of defect 5 of issue 13:
// against a database that stopped answering, cold token lookups and the
// management API hung with no statement timeout. Now they answer 503 in
// their route's error shape within SQL_STATEMENT_TIMEOUT.
func TestBlackHoledDatabaseAnswers503(t *testing.T) {
	for _, db := range testkit.Databases() {
		if db == "sqlite" {
			continue // a file: nothing to black-hole
		}
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			p := faultproxy.Start(t, testkit.ServerAddr(db))
			app := testkit.Start(t, db, map[string]string{"SQL_DSN": testkit.FreshDSN(t, db, p), "SQL_STATEMENT_TIMEOUT": "1"})
			user := app.NewUser(t, model.RoleCommon)
			var created tokenReply
			user.Do("POST", "/api/token/", map[string]any{"name": "cold", "remain_quota": 5000, "expired_time": -1}).Want(t, 200, true).Decode(t, &created)

			p.BlackHole()
			// The client gives up long after the bound, so an answer at all
			// shows the server bounded the wait.
			client := &http.Client{Timeout: 20 * time.Second}
			body, _ := json.Marshal(map[string]any{"model": "gpt-4o", "messages": []map[string]string{{"role": "user", "content": "hi"}}})
			req, _ := http.NewRequest("POST", app.URL+"/v1/chat/completions", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+created.Key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("cold token lookup against a black-holed database: %v", err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var oe struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if err := json.Unmarshal(raw, &oe); err != nil || resp.StatusCode != 503 || oe.Error.Type != "service_unavailable" || oe.Error.Message == "" {
				t.Fatalf("cold token lookup answered %d %s, want 503 service_unavailable in OpenAI's shape", resp.StatusCode, raw)
			}
			// Management: a listing that must read the database.
			user.Do("GET", "/api/token/", nil).WantFail(t, 503, "did not answer in time")

			p.Heal()
			testkit.Eventually(t, 15*time.Second, "the management API answers once the database is back", func() bool {
				r := user.Do("GET", "/api/token/", nil)
				return r.Status == 200
			})
		})
	}
}
