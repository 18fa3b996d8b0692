import { describe, expect, it } from 'vitest';
import { larkAuthorizeURL, outsideEnabled, wechatPath } from '../src/outside';

describe('Lark sign-in', () => {
  it('sends the browser to the server’s authorize page with redirect_uri, app_id and state, as One API does', () => {
    const u = new URL(
      larkAuthorizeURL(
        { lark_client_id: 'cli_1', lark_authorize_url: 'https://open.larksuite.com/open-apis/authen/v1/index', lark_redirect_uri: 'https://relay.example.com/oauth/lark' },
        'st&ate',
        'http://ignored',
      ),
    );
    expect(u.origin + u.pathname).toBe('https://open.larksuite.com/open-apis/authen/v1/index');
    expect(Object.fromEntries(u.searchParams)).toEqual({ redirect_uri: 'https://relay.example.com/oauth/lark', app_id: 'cli_1', state: 'st&ate' });
  });

  it('falls back to Feishu and the server address when an older server does not say', () => {
    const u = new URL(larkAuthorizeURL({ lark_client_id: 'cli_1', server_address: 'https://relay.example.com/' }, 's', 'http://localhost:5173'));
    expect(u.host).toBe('open.feishu.cn');
    expect(u.searchParams.get('redirect_uri')).toBe('https://relay.example.com/oauth/lark');
  });

  it('is offered only when the server names a Lark app', () => {
    expect(outsideEnabled({ lark_client_id: 'cli_1' }, 'lark')).toBe(true);
    expect(outsideEnabled({ lark_client_id: '' }, 'lark')).toBe(false);
    expect(outsideEnabled({}, 'lark')).toBe(false);
  });
});

describe('WeChat sign-in', () => {
  it('sends the code, escaped and trimmed, to sign in or to bind', () => {
    expect(wechatPath(' 123456 ', false)).toBe('/api/oauth/wechat?code=123456');
    expect(wechatPath('1&bind=2', true)).toBe('/api/oauth/wechat/bind?code=1%26bind%3D2');
  });
});
