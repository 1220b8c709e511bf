import { escapeHtml, loginPage, signedOutPage } from './pages';

describe('pages', () => {
  it('escapes everything that could break out of text or an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('renders a sign-in form per person and escapes their details', () => {
    const html = loginPage({
      people: [
        {
          email: 'o"brien@example.com',
          name: '<b>O</b>',
          groups: [{ id: '1', name: 'a&b', email: '' }],
          userId: 'u',
          idpUserId: 'i',
        },
      ],
      redirectUrl: '/x?"y"',
    });
    expect(html).toContain('data-email="o&quot;brien@example.com"');
    expect(html).toContain('&lt;b&gt;O&lt;/b&gt;');
    expect(html).toContain('a&amp;b');
    expect(html).toContain('value="/x?&quot;y&quot;"');
    expect(html).not.toContain('<b>O</b>');
    expect(html.match(/action="\/cdn-cgi\/access\/login"/g)).toHaveLength(2);
    expect(html).toMatch(
      /data-testid="email-form">[\s\S]*name="groups"[\s\S]*<\/form>/,
    );
  });

  it('shows an error and a hint when there is nobody in the catalog', () => {
    const html = loginPage({
      people: [],
      redirectUrl: '/',
      error: 'Enter <an> email',
    });
    expect(html).toContain('data-testid="no-people"');
    expect(html).toContain('Enter &lt;an&gt; email');
  });

  it('says the person is signed out and links back home', () => {
    expect(signedOutPage()).toMatch(/You have been signed out[\s\S]*href="\/"/);
  });
});
