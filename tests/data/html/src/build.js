const fs = require('fs');
const Inky = require('inky').Inky;
const juice = require('juice');
const mjml = require('mjml');
const out = process.argv[2];
const css = fs.readFileSync('node_modules/foundation-emails/dist/foundation-emails.css', 'utf8');
for (const t of ['newsletter', 'marketing', 'drip']) {
  const src = fs.readFileSync(`node_modules/foundation-emails/templates/${t}.html`, 'utf8');
  const body = new Inky({}).releaseTheKraken(src);
  const page = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width">
<title>${t}</title>
<style>${css}</style>
</head>
<body>
<table class="body" data-made-with-foundation=""><tr><td class="float-center" align="center" valign="top"><center>
${body}
</center></td></tr></table>
</body>
</html>
`;
  let n = 0;
  const html = juice(page, {removeStyleTags: false})
    .replace(/href="(#|undefined)"/g, () => `href="https://www.example.org/${t}/${++n}?utm_source=email&amp;utm_campaign=${t}"`);
  fs.writeFileSync(`${out}/foundation-${t}.html`, html);
}
(async () => { for (const f of fs.readdirSync("mjml-src")) {
  const r = await mjml(fs.readFileSync(`mjml-src/${f}`, 'utf8'), {validationLevel: 'soft'});
  fs.writeFileSync(`${out}/mjml-${f.replace(/\.mjml$/, '.html')}`, r.html);
} })();
