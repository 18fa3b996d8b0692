// Where each runtime option shows on the settings page. Options the server
// knows and this table does not are placed by their name, so a new option
// appears without a console change.

export const GROUPS = ['Site', 'Sign-in', 'Mail', 'Quota & billing', 'Ratios', 'Channels & relay', 'Other'] as const;
export type GroupName = (typeof GROUPS)[number];

const EXPLICIT: Record<string, GroupName> = {
  SystemName: 'Site',
  Logo: 'Site',
  Footer: 'Site',
  Notice: 'Site',
  About: 'Site',
  HomePageContent: 'Site',
  ServerAddress: 'Site',
  TopUpLink: 'Site',
  ChatLink: 'Site',
  Theme: 'Site',
  RegisterEnabled: 'Sign-in',
  PasswordRegisterEnabled: 'Sign-in',
  PasswordLoginEnabled: 'Sign-in',
  EmailVerificationEnabled: 'Sign-in',
  EmailDomainRestrictionEnabled: 'Sign-in',
  EmailDomainWhitelist: 'Sign-in',
  TurnstileCheckEnabled: 'Sign-in',
  TurnstileSiteKey: 'Sign-in',
  GitHubOAuthEnabled: 'Sign-in',
  GitHubClientId: 'Sign-in',
  GitHubClientSecret: 'Sign-in',
  OidcEnabled: 'Sign-in',
  OidcClientId: 'Sign-in',
  OidcClientSecret: 'Sign-in',
  OidcAuthorizationEndpoint: 'Sign-in',
  OidcTokenEndpoint: 'Sign-in',
  OidcUserinfoEndpoint: 'Sign-in',
  TurnstileSecretKey: 'Sign-in',
  DisplayInCurrencyEnabled: 'Quota & billing',
  DisplayTokenStatEnabled: 'Quota & billing',
  QuotaPerUnit: 'Quota & billing',
  QuotaPeriodTimeZone: 'Quota & billing',
  LogConsumeEnabled: 'Channels & relay',
  LogContentEnabled: 'Channels & relay',
  RetryTimes: 'Channels & relay',
  GroupRateLimits: 'Channels & relay',
  StickyRoutingEnabled: 'Channels & relay',
  StickyRoutingSeconds: 'Channels & relay',
  ChannelDemoteEnabled: 'Channels & relay',
  ChannelDemoteSeconds: 'Channels & relay',
};

export function groupOf(key: string): GroupName {
  if (EXPLICIT[key]) return EXPLICIT[key];
  if (key.startsWith('SMTP')) return 'Mail';
  if (key.endsWith('Ratio')) return 'Ratios';
  if (key.includes('Quota')) return 'Quota & billing';
  if (['Channel', 'Relay', 'Retry', 'Log', 'Stream', 'Inflight'].some((w) => key.includes(w))) return 'Channels & relay';
  if (key.includes('GitHub') || key.includes('WeChat') || key.includes('Lark') || key.includes('OIDC') || key.includes('Register') || key.includes('Login')) return 'Sign-in';
  return 'Other';
}

/** SECRET_KEYS are options the server never sends back; they are edited write-only. */
export const SECRET_KEYS = ['SMTPToken', 'TurnstileSecretKey', 'GitHubClientSecret', 'OidcClientSecret'];

/** LONG_TEXT keys get a multi-line editor. */
export const LONG_TEXT = new Set(['Notice', 'About', 'HomePageContent', 'Footer']);

/** isJSONOption says whether a value is edited as JSON. */
export function isJSONOption(key: string, value: string): boolean {
  const v = value.trim();
  const structured = (v.startsWith('{') && v.endsWith('}')) || (v.startsWith('[') && v.endsWith(']'));
  // A ratio table may be empty; a single ratio such as UnknownModelRatio is a number.
  return structured || (v === '' && (key.endsWith('Ratio') || key.endsWith('Mapping')));
}

/** HELP says in a line what each known option does; the settings page shows it under the field. */
export const HELP: Record<string, string> = {
  CacheRatio: 'Per model, as JSON: the price of a cached prompt token (a cache read) as a share of a prompt token; models not listed use 0.1.',
  CacheCreationRatio: 'The price of a prompt token written to the provider’s cache, as a multiple of a prompt token (Anthropic charges 1.25).',
  GroupRateLimits: 'Per user group: requests and tokens per minute, requests per day and parallel requests, shared by every call of the group (all its users and tokens together); 0 means no limit.',
  QuotaPeriodTimeZone: 'Time zone (IANA name such as Asia/Shanghai) whose midnight starts the daily, weekly (Monday) and monthly quota periods.',
  StickyRoutingEnabled: 'Send a token’s calls for one model to the channel and key that served its last one while it is available, so the provider’s prompt cache keeps hitting.',
  StickyRoutingSeconds: 'How long, in seconds after its last call, a token stays on its channel.',
  ChannelDemoteEnabled: 'A channel that keeps failing drops below every other tier for a while instead of resting or being disabled, and comes back after a passing test.',
  ChannelDemoteSeconds: 'How long a demoted channel stays at the bottom, in seconds.',
  About: 'Text of the About page.',
  AutomaticDisableChannelEnabled: 'Disable a channel by itself when its upstream says the key is dead (401, no quota, deactivated).',
  AutomaticEnableChannelEnabled: 'Enable an automatically disabled channel again once a test passes.',
  ChannelCooldownFailures: 'Consecutive failures after which a channel rests for ChannelCooldownSeconds; 0 turns cooldown off.',
  ChannelCooldownSeconds: 'How long a failing channel rests, in seconds; 0 turns cooldown off.',
  ChannelDisableThreshold: 'Seconds: a channel whose test answers slower is disabled, when automatic disabling is on.',
  ChannelTestFrequency: 'Minutes between background tests of every channel; 0 turns them off.',
  ChatLink: 'Link to a chat front end for your users.',
  CompletionRatio: 'Per model: what a completion token costs relative to a prompt token.',
  DisplayInCurrencyEnabled: 'Show quota, and report it on the billing endpoints, in dollars (QuotaPerUnit units make $1) instead of raw units.',
  DisplayTokenStatEnabled: 'The billing endpoints (/v1/dashboard/billing/…) report the calling token’s figures; off, its owner’s.',
  EmailDomainRestrictionEnabled: 'Only accept registration from the domains in EmailDomainWhitelist.',
  EmailDomainWhitelist: 'Comma-separated email domains accepted when the restriction is on.',
  EmailVerificationEnabled: 'Registration needs a code sent by email; set up Mail first.',
  Footer: 'HTML shown at the foot of every page.',
  GroupRatio: 'Per user group: a multiplier on every price.',
  HomePageContent: 'Content of the home page.',
  LogContentEnabled: 'Keep each call’s request and answer in its log row, for debugging.',
  LogContentMaxBytes: 'How many bytes of a request and of an answer a log row keeps.',
  Logo: 'URL of the logo shown beside the system name.',
  ModelRatio: 'Per model: its price multiplier. Quota = (prompt + completion × completion ratio) × model ratio × group ratio.',
  Notice: 'Announcement shown on every dashboard.',
  PasswordLoginEnabled: 'Allow signing in with a username and password.',
  PasswordRegisterEnabled: 'Allow registering with a username and password.',
  PreConsumedQuota: 'Tokens reserved for a request that sets no max_tokens, until its true cost is known.',
  QuotaForInvitee: 'Quota given to a new user who registers with an invite code.',
  QuotaForInviter: 'Quota given to the inviter when someone registers with their code.',
  QuotaForNewUser: 'Quota every new user starts with.',
  QuotaPerUnit: 'Quota units that make one dollar.',
  RegisterEnabled: 'Allow new users to register.',
  RetryTimes: 'How many other channels a failed request may try.',
  SMTPAccount: 'SMTP user name.',
  SMTPFrom: 'Sender address of the mails.',
  SMTPPort: 'SMTP port: 587 for STARTTLS, 465 for TLS.',
  SMTPServer: 'SMTP server host name.',
  SMTPToken: 'SMTP password or token; never shown back.',
  ServerAddress: 'Public URL of this server, used in links sent by email.',
  StreamKeepAliveSeconds: 'While a stream waits for its first token, send a keep-alive this often, in seconds; 0 turns it off.',
  SystemName: 'Name shown in the header and the browser tab.',
  TopUpLink: 'Where users buy redemption codes; shown on the top-up page.',
  GitHubClientId: 'Client ID of your GitHub OAuth app, whose callback URL is the server address followed by /oauth/github.',
  GitHubClientSecret: 'Client secret of that GitHub OAuth app; never shown back.',
  GitHubOAuthEnabled: 'Let people sign in with GitHub; a first sign-in registers an account while registration is open.',
  OidcAuthorizationEndpoint: 'The provider’s authorization_endpoint, from its /.well-known/openid-configuration.',
  OidcClientId: 'Client ID registered with the provider, whose redirect URI is the server address followed by /oauth/oidc.',
  OidcClientSecret: 'Client secret registered with the provider; never shown back.',
  OidcEnabled: 'Let people sign in with an OpenID Connect provider (Keycloak, Authentik, Okta, Google, Entra ID…); a first sign-in registers an account while registration is open.',
  OidcTokenEndpoint: 'The provider’s token_endpoint, from the same document.',
  OidcUserinfoEndpoint: 'The provider’s userinfo_endpoint, from the same document.',
  TurnstileCheckEnabled: 'Ask for a Cloudflare Turnstile check on registration and emails.',
  TurnstileSecretKey: 'Turnstile secret key; never shown back.',
  TurnstileSiteKey: 'Turnstile site key, given to browsers.',
  UnknownModelRatio: 'Price multiplier for a model missing from ModelRatio; 0, the default, refuses such models instead of billing them.',
};

/** LABELS name each option in words; the settings page shows the key small beside it, for those who script. */
export const LABELS: Record<string, string> = {
  CacheRatio: 'Cache read ratio per model',
  CacheCreationRatio: 'Cache write ratio',
  GroupRateLimits: 'Rate limits per group',
  QuotaPeriodTimeZone: 'Period quota time zone',
  StickyRoutingEnabled: 'Sticky routing',
  StickyRoutingSeconds: 'Sticky routing window (seconds)',
  ChannelDemoteEnabled: 'Demote failing channels instead of disabling',
  ChannelDemoteSeconds: 'Demotion length (seconds)',
  About: 'About page',
  AutomaticDisableChannelEnabled: 'Disable dead channels automatically',
  AutomaticEnableChannelEnabled: 'Re-enable channels that pass a test',
  ChannelCooldownFailures: 'Failures before a cooldown',
  ChannelCooldownSeconds: 'Cooldown length (seconds)',
  ChannelDisableThreshold: 'Slow test threshold (seconds)',
  ChannelTestFrequency: 'Channel test interval (minutes)',
  ChatLink: 'Chat link',
  CompletionRatio: 'Completion ratios',
  DisplayInCurrencyEnabled: 'Show quota in dollars',
  DisplayTokenStatEnabled: 'Show token statistics',
  EmailDomainRestrictionEnabled: 'Restrict email domains',
  EmailDomainWhitelist: 'Allowed email domains',
  EmailVerificationEnabled: 'Verify email on registration',
  Footer: 'Footer',
  GroupRatio: 'Group ratios',
  HomePageContent: 'Home page content',
  LogContentEnabled: 'Keep request and answer in logs',
  LogContentMaxBytes: 'Stored content size (bytes)',
  Logo: 'Logo',
  ModelRatio: 'Model ratios',
  Notice: 'Notice',
  PasswordLoginEnabled: 'Password sign-in',
  PasswordRegisterEnabled: 'Password registration',
  PreConsumedQuota: 'Reserved tokens per request',
  QuotaForInvitee: 'Quota for an invited user',
  QuotaForInviter: 'Quota for the inviter',
  QuotaForNewUser: 'Quota for a new user',
  QuotaPerUnit: 'Quota units per dollar',
  RegisterEnabled: 'Registration open',
  RetryTimes: 'Retries on other channels',
  SMTPAccount: 'SMTP user',
  SMTPFrom: 'Sender address',
  SMTPPort: 'SMTP port',
  SMTPServer: 'SMTP server',
  SMTPToken: 'SMTP password',
  ServerAddress: 'Server address',
  StreamKeepAliveSeconds: 'Stream keep-alive (seconds)',
  SystemName: 'System name',
  TopUpLink: 'Top-up link',
  GitHubClientId: 'GitHub client ID',
  GitHubClientSecret: 'GitHub client secret',
  GitHubOAuthEnabled: 'Sign-in with GitHub',
  OidcAuthorizationEndpoint: 'OIDC authorization endpoint',
  OidcClientId: 'OIDC client ID',
  OidcClientSecret: 'OIDC client secret',
  OidcEnabled: 'Sign-in with OpenID Connect',
  OidcTokenEndpoint: 'OIDC token endpoint',
  OidcUserinfoEndpoint: 'OIDC userinfo endpoint',
  TurnstileCheckEnabled: 'Turnstile check',
  TurnstileSecretKey: 'Turnstile secret key',
  TurnstileSiteKey: 'Turnstile site key',
  UnknownModelRatio: 'Ratio of unpriced models',
};
