package model

import (
	"errors"

	"switchyard/common/oauth"
)

// The options of the foundation: sign-in, mail, Turnstile and site text.
// Billing, channel and relay options are defined beside their features.
func init() {
	defineOptions(map[string]OptionDef{
		"RegisterEnabled":               {Kind: OptBool, Default: "true"},
		"PasswordRegisterEnabled":       {Kind: OptBool, Default: "true"},
		"PasswordLoginEnabled":          {Kind: OptBool, Default: "true"},
		"EmailVerificationEnabled":      {Kind: OptBool, Default: "false"},
		"GitHubOAuthEnabled":            {Kind: OptBool, Default: "false"},
		"GitHubClientId":                {Kind: OptString},
		"GitHubClientSecret":            {Kind: OptString, Secret: true},
		"OidcEnabled":                   {Kind: OptBool, Default: "false"},
		"OidcClientId":                  {Kind: OptString},
		"OidcClientSecret":              {Kind: OptString, Secret: true},
		"OidcAuthorizationEndpoint":     {Kind: OptString},
		"OidcTokenEndpoint":             {Kind: OptString},
		"OidcUserinfoEndpoint":          {Kind: OptString},
		"WeChatAuthEnabled":             {Kind: OptBool, Default: "false"},
		"WeChatServerAddress":           {Kind: OptString, Check: checkWeChatServerAddress},
		"WeChatServerToken":             {Kind: OptString, Secret: true},
		"WeChatAccountQRCodeImageURL":   {Kind: OptString},
		"LarkClientId":                  {Kind: OptString},
		"LarkClientSecret":              {Kind: OptString, Secret: true},
		"TurnstileCheckEnabled":         {Kind: OptBool, Default: "false"},
		"TurnstileSiteKey":              {Kind: OptString},
		"TurnstileSecretKey":            {Kind: OptString, Secret: true},
		"SMTPServer":                    {Kind: OptString},
		"SMTPPort":                      {Kind: OptInt, Default: "587", Min: 1},
		"SMTPAccount":                   {Kind: OptString},
		"SMTPToken":                     {Kind: OptString, Secret: true},
		"SMTPFrom":                      {Kind: OptString},
		"SystemName":                    {Kind: OptString, Default: "Switchyard"},
		"Logo":                          {Kind: OptString},
		"Footer":                        {Kind: OptString},
		"Notice":                        {Kind: OptString},
		"About":                         {Kind: OptString},
		"HomePageContent":               {Kind: OptString},
		"ServerAddress":                 {Kind: OptString, Default: "http://localhost:3000"},
		"TopUpLink":                     {Kind: OptString},
		"ChatLink":                      {Kind: OptString},
		"DisplayInCurrencyEnabled":      {Kind: OptBool, Default: "true"},
		"DisplayTokenStatEnabled":       {Kind: OptBool, Default: "true"},
		"QuotaPerUnit":                  {Kind: OptFloat, Default: "500000", Min: 1},
		"EmailDomainRestrictionEnabled": {Kind: OptBool, Default: "false"},
		"EmailDomainWhitelist":          {Kind: OptString, Default: "gmail.com,outlook.com,qq.com,163.com,yahoo.com,icloud.com"},
	})
}

// checkWeChatServerAddress takes "" (WeChat sign-in not set up) or an http
// or https URL with a host: the address sign-ins call with the server's
// token, so nothing else may stand there.
func checkWeChatServerAddress(v string) error {
	if v == "" || oauth.ValidServerAddress(v) {
		return nil
	}
	return errors.New("the WeChat Server address must be an http or https URL, such as https://wechat.example.com")
}
