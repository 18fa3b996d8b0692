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
  TurnstileSecretKey: 'Sign-in',
  DisplayInCurrencyEnabled: 'Quota & billing',
  DisplayTokenStatEnabled: 'Quota & billing',
  QuotaPerUnit: 'Quota & billing',
  LogConsumeEnabled: 'Channels & relay',
  LogContentEnabled: 'Channels & relay',
  RetryTimes: 'Channels & relay',
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
export const SECRET_KEYS = ['SMTPToken', 'TurnstileSecretKey'];

/** LONG_TEXT keys get a multi-line editor. */
export const LONG_TEXT = new Set(['Notice', 'About', 'HomePageContent', 'Footer']);

/** isJSONOption says whether a value is edited as JSON. */
export function isJSONOption(key: string, value: string): boolean {
  const v = value.trim();
  const structured = (v.startsWith('{') && v.endsWith('}')) || (v.startsWith('[') && v.endsWith(']'));
  // A ratio table may be empty; a single ratio such as UnknownModelRatio is a number.
  return structured || (v === '' && (key.endsWith('Ratio') || key.endsWith('Mapping')));
}
