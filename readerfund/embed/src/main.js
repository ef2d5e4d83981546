// Placeholder: fetch, decide, render in Shadow DOM, beacon events.
