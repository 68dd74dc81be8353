// Date fields as YYYY-MM-DD in the page's language, not the browser's: each input[data-date] gets a button that
// opens a month grid (Monday first; 2025年3月 in Chinese, March 2025 in English), and what is typed as
// 2025/3/9, 2025.3.9, 2025年3月9日 or 20250309 becomes 2025-03-09. No inline script (strict CSP).
(function () {
  const zh = (document.documentElement.lang || '').startsWith('zh');
  const text = zh
    ? { pick: '选择日期', prev: '上个月', next: '下个月', today: '今天', clear: '清除', close: '关闭',
        days: ['一', '二', '三', '四', '五', '六', '日'], title: (y, m) => `${y}年${m}月` }
    : { pick: 'Pick a date', prev: 'Previous month', next: 'Next month', today: 'Today', clear: 'Clear', close: 'Close',
        days: ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'],
        title: (y, m) => new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }) };
  const pad = (n) => String(n).padStart(2, '0');
  const iso = (y, m, d) => `${y}-${pad(m)}-${pad(d)}`;

  // The day the page's clock calls today, in Beijing time (the time zone of every date the staff read).
  function today() {
    const now = new Date(Date.now() + 8 * 3600 * 1000);
    return [now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate()];
  }

  function parse(value) {
    const typed = value.trim();
    const found = /^(\d{4})(\d{2})(\d{2})$/.exec(typed)
      || /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(typed);
    if (!found) { return null; }
    const [y, m, d] = [+found[1], +found[2], +found[3]];
    const day = new Date(Date.UTC(y, m - 1, d));
    return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d ? [y, m, d] : null;
  }

  function set(input, value) {
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  function button(label, cls, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = label;
    b.addEventListener('click', onClick);
    return b;
  }

  function picker(input, toggle) {
    const popup = document.createElement('div');
    popup.className = 'date-popup';
    popup.setAttribute('role', 'dialog');
    popup.setAttribute('aria-label', text.pick);
    popup.hidden = true;
    let shown = null;                       // [year, month] on show

    function close(focus) {
      popup.hidden = true;
      toggle.setAttribute('aria-expanded', 'false');
      if (focus) { input.focus(); }
    }

    function draw() {
      const [y, m] = shown;
      const chosen = parse(input.value);
      const [ty, tm, td] = today();
      const head = document.createElement('div');
      head.className = 'dp-head';
      const title = document.createElement('span');
      title.className = 'dp-title';
      title.textContent = text.title(y, m);
      head.append(button('‹', 'dp-prev', () => { shown = m === 1 ? [y - 1, 12] : [y, m - 1]; draw(); }), title,
                  button('›', 'dp-next', () => { shown = m === 12 ? [y + 1, 1] : [y, m + 1]; draw(); }));
      head.firstChild.setAttribute('aria-label', text.prev);
      head.lastChild.setAttribute('aria-label', text.next);
      const grid = document.createElement('table');
      grid.className = 'dp-grid';
      const names = document.createElement('tr');
      text.days.forEach((d) => { const th = document.createElement('th'); th.textContent = d; names.append(th); });
      grid.createTHead().append(names);
      const body = grid.createTBody();
      const first = (new Date(Date.UTC(y, m - 1, 1)).getUTCDay() + 6) % 7;       // Monday = 0
      const length = new Date(Date.UTC(y, m, 0)).getUTCDate();
      let row = body.insertRow();
      for (let i = 0; i < first; i += 1) { row.insertCell(); }
      for (let d = 1; d <= length; d += 1) {
        if (row.cells.length === 7) { row = body.insertRow(); }
        const day = button(String(d), 'dp-day', () => { set(input, iso(y, m, d)); close(true); });
        day.dataset.date = iso(y, m, d);
        day.setAttribute('aria-label', zh ? `${y}年${m}月${d}日` : iso(y, m, d));
        if (chosen && chosen[0] === y && chosen[1] === m && chosen[2] === d) { day.classList.add('chosen'); }
        if (ty === y && tm === m && td === d) { day.classList.add('today'); }
        row.insertCell().append(day);
      }
      const foot = document.createElement('div');
      foot.className = 'dp-foot';
      foot.append(button(text.today, 'dp-today', () => { set(input, iso(ty, tm, td)); close(true); }),
                  button(text.clear, 'dp-clear', () => { set(input, ''); close(true); }),
                  button(text.close, 'dp-close', () => close(true)));
      popup.replaceChildren(head, grid, foot);
    }

    toggle.addEventListener('click', () => {
      if (!popup.hidden) { close(true); return; }
      const chosen = parse(input.value) || today();
      shown = [chosen[0], chosen[1]];
      draw();
      popup.hidden = false;
      popup.style.left = '0px';
      const overflow = popup.getBoundingClientRect().right - document.documentElement.clientWidth + 4;
      if (overflow > 0) { popup.style.left = `${-overflow}px`; }    // on a phone, keep it inside the screen
      toggle.setAttribute('aria-expanded', 'true');
      (popup.querySelector('.dp-day.chosen') || popup.querySelector('.dp-day.today') || popup.querySelector('.dp-day')).focus();
    });
    popup.addEventListener('keydown', (event) => { if (event.key === 'Escape') { close(true); } });
    // A click inside stays inside: the month buttons redraw the grid, so their target is gone from the page
    // by the time the document's listener would ask whether the popup contains it.
    popup.addEventListener('click', (event) => event.stopPropagation());
    document.addEventListener('click', (event) => {
      if (!popup.hidden && !popup.contains(event.target) && !toggle.contains(event.target)) { close(false); }
    });
    return popup;
  }

  // A small calendar drawn as SVG (an emoji needs a font the machine may not have).
  function icon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 16 16');
    svg.setAttribute('width', '14');
    svg.setAttribute('height', '14');
    svg.setAttribute('aria-hidden', 'true');
    [['rect', { x: 1.5, y: 3, width: 13, height: 11.5, rx: 1.5, fill: 'none', stroke: 'currentColor' }],
     ['path', { d: 'M1.5 6.5h13M5 1.5v3M11 1.5v3M4 9h2M7 9h2M10 9h2M4 12h2M7 12h2', stroke: 'currentColor' }]]
      .forEach(([tag, attributes]) => {
        const shape = document.createElementNS(ns, tag);
        Object.entries(attributes).forEach(([k, v]) => shape.setAttribute(k, v));
        svg.append(shape);
      });
    return svg;
  }

  document.querySelectorAll('input[data-date]').forEach((input, n) => {
    const toggle = button('', 'date-pick', () => {});
    toggle.append(icon());
    toggle.setAttribute('aria-label', text.pick);
    toggle.setAttribute('aria-expanded', 'false');
    toggle.setAttribute('aria-haspopup', 'dialog');
    if (input.readOnly) { toggle.disabled = true; }
    const popup = picker(input, toggle);
    popup.id = `date-popup-${input.id || n}`;
    toggle.setAttribute('aria-controls', popup.id);
    input.after(toggle, popup);
    input.addEventListener('change', () => {
      const day = parse(input.value);
      if (day && input.value !== iso(...day)) { input.value = iso(...day); }
      input.setCustomValidity(!input.value || day ? '' : (zh ? '日期格式为 年-月-日,如 2025-03-10' : 'Date as yyyy-mm-dd, e.g. 2025-03-10'));
    });
  });
}());
