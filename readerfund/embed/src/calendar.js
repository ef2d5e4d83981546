// "Add to my calendar": an iCalendar file made in the browser, so this reminder needs no
// address and no request to any server.
function icsText(day, summary, link) {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//readerfund//embed//EN',
    'BEGIN:VEVENT',
    `UID:${Date.now()}-${Math.random()}@readerfund`,
    `DTSTAMP:${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}`,
    `DTSTART;VALUE=DATE:${day.replace(/-/g, '')}`,
    `SUMMARY:${summary.replace(/[\\;,]/g, '\\$&')}`,
    `URL:${link}`,
    `DESCRIPTION:${link}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ]
    .map(icsFold)
    .join('\r\n') + '\r\n';
}

// RFC 5545 lines are at most 75 octets; a longer one goes on after CRLF and a space.
// Only the summary can hold non-ASCII (up to 3 octets a character here), so it folds sooner.
const icsFold = (line) => line.match(RegExp(`.{1,${/^[ -~]*$/.test(line) ? 74 : 24}}`, 'gu')).join('\r\n ');

function icsDownload(body) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([body], { type: 'text/calendar' }));
  link.download = 'support-reminder.ics';
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1e4);
}
