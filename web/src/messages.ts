// The server's stable codes and the console's own sentence for each, in
// English (the key of the Chinese table, like every t() string). The
// server's text is shown only for a code missing here. scripts/check-i18n.mjs
// fails the build when the server issues a code (WithCode in the Go
// sources, or a log template in model/log_detail.go) that is missing here,
// or when a sentence here has no Chinese.
import { translate, type Vars } from './i18n';

export const ERROR_MESSAGES: Record<string, string> = {
  previous_response_not_found: 'The earlier response this call continues is not known to this relay, or belongs to someone else.',
  rate_limit_exceeded: 'A rate limit was reached; try again after the time the answer gives.',
  model_price_unset: 'This model has no price on this relay: an administrator must set its model ratio before it can be used.',
  channel_disabled: 'The channel that keeps this answer is disabled.',
  account_disabled: 'This account is disabled.',
  channel_model_not_served: 'This channel does not serve that model.',
  channel_no_test_model: 'This channel has no chat model to test; set its test model.',
  channels_busy: 'Every channel serving this model is busy; try again shortly.',
  email_taken: 'This email address is used by another account.',
  current_password_required: 'Enter your current password to set a new one.',
  github_oauth_disabled: 'GitHub sign-in is not enabled here.',
  github_oauth_refused: 'GitHub refused the sign-in: start again.',
  github_taken: 'This GitHub account is bound to another account here.',
  lark_disabled: 'Lark sign-in is not enabled here.',
  lark_oauth_refused: 'Lark refused the sign-in: start again.',
  lark_taken: 'This Lark account is bound to another account here.',
  invalid_api_key: 'The API key is not valid.',
  model_not_allowed: 'This token may not use this model.',
  models_not_listed: 'This channel’s provider does not list its models: type them in.',
  model_not_found: 'No channel serves this model to your group.',
  not_signed_in: 'You are not signed in.',
  oidc_disabled: 'OpenID Connect sign-in is not enabled here.',
  oidc_refused: 'The identity provider refused the sign-in: start again.',
  oidc_taken: 'This OpenID Connect account is bound to another account here.',
  oauth_state_mismatch: 'This sign-in link is stale or was not started here: start again.',
  permission_denied: 'You do not have permission to do this.',
  playground_token_missing: 'Pick one of your tokens first.',
  redemption_invalid: 'This redemption code is invalid or has been used.',
  registration_closed: 'Registration is closed by the administrator.',
  test_model_not_listed: 'The test model must be one of the channel’s models.',
  token_disabled: 'This token is disabled.',
  token_expired: 'This token has expired.',
  token_period_quota_exhausted: 'This token’s quota for the current period is used up: it resets when the period ends, or raise its period quota on the Tokens page.',
  token_quota_exhausted: 'This token’s own quota is used up: raise it or make it unlimited on the Tokens page.',
  unsupported_parameter: 'The relay does not accept a parameter of this request; the message names it.',
  user_period_quota_exhausted: 'Your account’s quota for the current period is used up: it resets when the period ends, or ask an administrator to raise it.',
  user_quota_exhausted: 'Your account’s quota is used up: redeem a code on the Top up page, or ask an administrator to add quota.',
  username_taken: 'This username is already taken.',
  verification_code_wrong: 'The verification code is wrong or has expired: request a new one.',
  wechat_code_invalid: 'This WeChat verification code is wrong or has expired: send the official account a message for a new one.',
  wechat_disabled: 'WeChat sign-in is not enabled here.',
  wechat_misconfigured: 'WeChat sign-in is not set up correctly here: tell the administrator.',
  wechat_taken: 'This WeChat account is bound to another account here.',
  wrong_credentials: 'Wrong username or password.',
  wrong_current_password: 'The current password is wrong.',
};

/** LOG_MESSAGES renders top-up, manage and system log rows: {name} is a parameter the row carries. */
export const LOG_MESSAGES: Record<string, string> = {
  admin_redeemed_code: 'Admin #{admin} redeemed code #{id} ({name}) created by user #{creator}, crediting themselves',
  admin_set_quota: 'Admin #{admin} set the quota from {from} to {to}',
  code_redeemed: 'Redeemed code #{id} ({name})',
  codes_minted: 'Admin #{admin} created {count} redemption code(s) “{name}” worth {quota} each (ids {first}..{last})',
  invitee_reward: 'Reward for registering with an invite code',
  inviter_reward: 'Reward for inviting {username}',
  new_user_quota: 'Starting quota for a new user',
  root_starting_quota: 'Starting quota for root',
};

/** serverMessage is the console's sentence for an error code, else the server's own text. */
export function serverMessage(code: string | undefined | null, fallback: string): string {
  const s = code ? ERROR_MESSAGES[code] : undefined;
  return s ? translate(s) : fallback;
}

/** logMessage renders a log row's sentence from its code and JSON parameters, else its stored content. */
export function logMessage(code: string | undefined, params: string | undefined, content: string, t: (s: string, v?: Vars) => string): string {
  const tpl = code ? LOG_MESSAGES[code] : undefined;
  if (!tpl) return content;
  let vars: Vars = {};
  try {
    const p = params ? (JSON.parse(params) as Record<string, unknown>) : {};
    vars = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)]));
  } catch {
    return content;
  }
  return t(tpl, vars);
}
