// Draw a process version with bpmn-js, mark the executed path, loops, cancelled and current tasks, and let a
// person read it: bpmn-js's own zoom (buttons, wheel) and pan, fit to the box, opened on the current task at a
// legible scale, lane names kept in view, and a click on an element lists its audit events. No inline script
// (strict CSP).
(function () {
  const box = document.getElementById('diagram');
  if (!box || !window.BpmnJS) { return; }
  const path = JSON.parse(box.dataset.path || '[]');
  const current = JSON.parse(box.dataset.current || '[]');
  const cancelled = JSON.parse(box.dataset.cancelled || '[]');
  const events = JSON.parse(box.dataset.events || '[]');
  const READABLE = 0.9;     // the scale at which lane names and task labels read like the page's text
  const viewer = new window.BpmnJS({ container: box, keyboard: { bindTo: box } });

  function controls(canvas, zoomScroll, focus) {
    const bar = document.getElementById('diagram-controls');
    if (!bar) { return; }
    const actions = {
      'zoom-in': () => zoomScroll.stepZoom(1),
      'zoom-out': () => zoomScroll.stepZoom(-1),
      'zoom-fit': () => canvas.zoom('fit-viewport', 'auto'),
      'zoom-reset': () => canvas.zoom(1, 'auto'),
      'zoom-current': focus,
    };
    bar.querySelectorAll('button[data-action]').forEach((button) => {
      if (button.dataset.action === 'zoom-current' && !current.length) { button.hidden = true; }
      button.addEventListener('click', () => {
        actions[button.dataset.action]();
        box.dataset.zoom = String(canvas.zoom());
      });
    });
    bar.hidden = false;
  }

  function showEvents(element) {
    const panel = document.getElementById('element-events');
    if (!panel) { return; }
    const found = events.filter((e) => e.element_id === element.id);
    const name = (element.businessObject && element.businessObject.name) || '';
    panel.querySelector('h2').textContent = name.replace(/\s+/g, ' ').trim() || (found[0] && found[0].step) || '';
    const list = panel.querySelector('ul');
    list.replaceChildren(...found.map((e) => {
      const item = document.createElement('li');
      item.textContent = [e.when, e.what, e.by, e.detail].filter(Boolean).join(' · ');
      return item;
    }));
    const empty = panel.querySelector('.empty');
    empty.textContent = found.length ? '' : empty.dataset.empty;
    panel.hidden = false;
    panel.dataset.element = element.id;
  }

  // Sticky lane headers (as in Camunda Cockpit): once a lane's own label band is out of view -- zoomed in, or
  // panned right -- its name stays at the left edge of the box, level with the part of the lane in view.
  function laneHeaders(canvas, registry, eventBus) {
    const lanes = registry.filter((e) => e.type === 'bpmn:Lane' && e.businessObject.name);
    registry.filter((e) => e.type === 'bpmn:Participant' && e.businessObject.name
                     && !lanes.some((lane) => lane.parent === e)).forEach((pool) => lanes.push(pool));
    if (!lanes.length) { return; }
    const layer = document.createElement('div');
    layer.className = 'lane-headers';
    box.appendChild(layer);
    const BAND = 30;          // the width of the label band bpmn-js draws at a lane's left edge
    function update() {
      const view = canvas.viewbox();
      const shown = [];
      lanes.forEach((lane) => {
        const top = (lane.y - view.y) * view.scale;
        const bottom = (lane.y + lane.height - view.y) * view.scale;
        const left = (lane.x - view.x) * view.scale;
        const right = (lane.x + lane.width - view.x) * view.scale;
        const middle = (top + bottom) / 2;
        if (bottom - Math.max(top, 0) < 24 || top > view.outer.height - 24 || right < 0 || left > view.outer.width) {
          return;             // not in view, or too little of it to carry a name
        }
        const labelInView = left >= 0 && middle >= 0 && middle <= view.outer.height && BAND * view.scale >= 10;
        if (labelInView) { return; }
        const header = document.createElement('div');
        header.className = 'lane-header';
        header.dataset.lane = lane.id;
        header.textContent = lane.businessObject.name.replace(/\s+/g, ' ').trim();
        header.style.top = Math.max(top, 0) + 'px';
        header.style.maxHeight = (Math.min(bottom, view.outer.height) - Math.max(top, 0)) + 'px';
        shown.push(header);
      });
      layer.replaceChildren(...shown);
    }
    eventBus.on('canvas.viewbox.changed', update);
    update();
  }

  fetch(box.dataset.xml, { credentials: 'same-origin' })
    .then((answer) => answer.text())
    .then((xml) => viewer.importXML(xml))
    .then(() => {
      const canvas = viewer.get('canvas');
      const registry = viewer.get('elementRegistry');
      const overlays = viewer.get('overlays');
      const zoomScroll = viewer.get('zoomScroll');
      const times = {};
      path.forEach((step) => { times[step.id] = (times[step.id] || 0) + 1; });
      Object.keys(times).forEach((id) => {
        if (!registry.get(id)) { return; }     // an element of a called process: not on this diagram
        canvas.addMarker(id, 'done');
        if (times[id] > 1 && path.some((s) => s.id === id && s.kind === 'element')) {
          const badge = document.createElement('span');
          badge.className = 'loop-count';
          badge.textContent = '×' + times[id];
          overlays.add(id, { position: { top: -12, right: 12 }, html: badge });
        }
      });
      cancelled.forEach((id) => { if (registry.get(id) && !current.includes(id)) { canvas.addMarker(id, 'cancelled'); } });
      const shown = current.filter((id) => registry.get(id));
      shown.forEach((id) => canvas.addMarker(id, 'current'));

      // Open on the current task at a legible scale; without one, the whole process fitted to the box.
      function focus() {
        const element = registry.get(shown[0]);
        const size = canvas.getSize();
        const scale = Math.max(canvas.zoom('fit-viewport'), Math.min(READABLE, size.width / 700));
        canvas.zoom(scale);
        const box2 = canvas.viewbox();
        canvas.viewbox({ x: element.x + element.width / 2 - box2.width / 2,
                         y: element.y + element.height / 2 - box2.height / 2,
                         width: box2.width, height: box2.height });
      }
      if (shown.length) { focus(); } else { canvas.zoom('fit-viewport', 'auto'); }
      controls(canvas, zoomScroll, shown.length ? focus : () => canvas.zoom('fit-viewport', 'auto'));
      laneHeaders(canvas, registry, viewer.get('eventBus'));
      viewer.get('eventBus').on('element.click', (event) => {
        const element = event.element;
        if (element && element.type !== 'bpmn:Process' && element.type !== 'bpmn:Collaboration' && element.parent) {
          showEvents(element);
        }
      });
      box.dataset.zoom = String(canvas.zoom());
      box.dataset.rendered = 'true';
      box.dataset.marked = String(document.querySelectorAll('#diagram .done').length);
    })
    .catch((err) => { box.dataset.rendered = 'error'; box.textContent = String(err); });
}());
