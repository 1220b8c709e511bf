import type { Person } from './catalog';

const TITLE = 'Cloudflare Access (local emulator)';

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1d1f20; margin: 0; }
  main { max-width: 34rem; margin: 3rem auto; background: #fff; border-radius: 8px;
         padding: 2rem; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  .note { color: #5f6368; font-size: .9rem; }
  .error { color: #b00020; }
  ul { list-style: none; padding: 0; }
  li { margin: .5rem 0; }
  button { font: inherit; cursor: pointer; border: 1px solid #f38020; background: #fff;
           border-radius: 6px; padding: .6rem .8rem; }
  li button { width: 100%; text-align: left; }
  button:hover, button:focus { background: #fff4eb; }
  .email, .groups { display: block; color: #5f6368; font-size: .85rem; }
  label { display: block; margin: .75rem 0 .25rem; }
  input { font: inherit; padding: .5rem; width: 60%; border: 1px solid #ccc; border-radius: 6px; }
  a { color: #0051c3; }
`;

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function page(heading: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${TITLE}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${TITLE}</h1>
<p class="note">${heading}</p>
${body}
</main>
</body>
</html>
`;
}

function personButton(person: Person, redirectUrl: string): string {
  const email = escapeHtml(person.email);
  const groups =
    person.groups.map(group => group.name).join(', ') || 'no groups';
  return `<li><form method="post" action="/cdn-cgi/access/login">
<input type="hidden" name="email" value="${email}">
<input type="hidden" name="redirect_url" value="${escapeHtml(redirectUrl)}">
<button type="submit" data-testid="person" data-email="${email}">
<strong class="name">${escapeHtml(person.name)}</strong>
<span class="email">${email}</span>
<span class="groups">${escapeHtml(groups)}</span>
</button>
</form></li>`;
}

/** Why some catalog Users are not on the page: Access signs people in by email. */
export function skippedUsersLine(names: string[]): string {
  return `${names.length} catalog User${
    names.length === 1 ? '' : 's'
  } not listed: no spec.profile.email, and Access signs people in by email (${names.join(
    ', ',
  )}).`;
}

/** The sign-in page: one button per known person, and fields for any other email and its groups. */
export function loginPage(options: {
  people: Person[];
  /** Catalog Users left out for having no email. */
  skippedUsers?: string[];
  redirectUrl: string;
  error?: string;
}): string {
  const { people, redirectUrl, error } = options;
  const skipped = options.skippedUsers ?? [];
  const list = people.length
    ? `<ul data-testid="people">${people
        .map(person => personButton(person, redirectUrl))
        .join('\n')}</ul>`
    : '<p class="note" data-testid="no-people">No people in the catalog: type an email below.</p>';
  const skippedNote = skipped.length
    ? `<p class="note" data-testid="skipped-users">${escapeHtml(
        skippedUsersLine(skipped),
      )}</p>`
    : '';
  const message = error
    ? `<p class="error" data-testid="error" role="alert">${escapeHtml(
        error,
      )}</p>`
    : '';
  return page(
    'Sign in as one of these people. This is a local stand-in for Cloudflare Access: there is no password.',
    `${message}
${list}
${skippedNote}
<form method="post" action="/cdn-cgi/access/login" data-testid="email-form">
<input type="hidden" name="redirect_url" value="${escapeHtml(redirectUrl)}">
<label for="email">Or any email:</label>
<input type="email" name="email" id="email" placeholder="someone@example.com" required>
<label for="groups">Access groups (names, comma-separated; for an email not in the catalog):</label><input type="text" name="groups" id="groups" data-testid="groups">
<button type="submit" id="sign-in" data-testid="sign-in">Sign in</button>
</form>`,
  );
}

/** The page shown after logout. */
export function signedOutPage(): string {
  return page(
    'Your Access session has ended.',
    `<p data-testid="signed-out">You have been signed out.</p>
<p><a href="/" id="sign-in-again" data-testid="sign-in-again">Sign in again</a></p>`,
  );
}
