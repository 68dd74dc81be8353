// Draw a process version with bpmn-js and mark the executed path, loops, cancelled and current tasks.
(function () {
  const box = document.getElementById('diagram');
  if (!box || !window.BpmnJS) { return; }
  const path = JSON.parse(box.dataset.path || '[]');
  const current = JSON.parse(box.dataset.current || '[]');
  const cancelled = JSON.parse(box.dataset.cancelled || '[]');
  const viewer = new window.BpmnJS({ container: box });
  fetch(box.dataset.xml, { credentials: 'same-origin' })
    .then((answer) => answer.text())
    .then((xml) => viewer.importXML(xml))
    .then(() => {
      const canvas = viewer.get('canvas');
      const registry = viewer.get('elementRegistry');
      const overlays = viewer.get('overlays');
      const times = {};
      path.forEach((step) => { times[step.id] = (times[step.id] || 0) + 1; });
      Object.keys(times).forEach((id) => {
        if (!registry.get(id)) { return; }     // an element of a called process: not on this diagram
        canvas.addMarker(id, 'done');
        if (times[id] > 1 && path.some((s) => s.id === id && s.kind === 'element')) {
          overlays.add(id, { position: { top: -12, right: 12 }, html: '<span class="loop-count">×' + times[id] + '</span>' });
        }
      });
      cancelled.forEach((id) => { if (registry.get(id) && !current.includes(id)) { canvas.addMarker(id, 'cancelled'); } });
      current.forEach((id) => { if (registry.get(id)) { canvas.addMarker(id, 'current'); } });
      canvas.zoom('fit-viewport');
      box.dataset.rendered = 'true';
      box.dataset.marked = String(document.querySelectorAll('#diagram .done').length);
    })
    .catch((err) => { box.dataset.rendered = 'error'; box.textContent = String(err); });
}());
