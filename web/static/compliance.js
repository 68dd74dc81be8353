// Draw a process version with bpmn-js: a frequency heatmap (how often each element ran), or a case's path,
// with the elements where cases deviated marked.
(function () {
  const box = document.getElementById('heatmap');
  if (!box || !window.BpmnJS) { return; }
  const counts = JSON.parse(box.dataset.counts || '{}');
  const flows = JSON.parse(box.dataset.flows || '{}');
  const path = JSON.parse(box.dataset.path || '[]');
  const raw = JSON.parse(box.dataset.deviations || '[]');      // a case: element ids; a version: id -> cases
  const deviating = Array.isArray(raw) ? raw : Object.keys(raw);
  const viewer = new window.BpmnJS({ container: box });
  fetch(box.dataset.xml, { credentials: 'same-origin' })
    .then((answer) => answer.text())
    .then((xml) => viewer.importXML(xml))
    .then(() => {
      const canvas = viewer.get('canvas');
      const registry = viewer.get('elementRegistry');
      const overlays = viewer.get('overlays');
      const most = Math.max(1, ...Object.values(counts));
      Object.entries(counts).forEach(([id, n]) => {
        const shape = registry.get(id);
        if (!shape) { return; }                  // an element of a called process: not on this diagram
        if (shape.type !== 'bpmn:SubProcess') {  // a sub-process keeps its inside readable
          canvas.addMarker(id, 'heat-' + Math.min(4, Math.ceil((4 * n) / most)));
        }
        overlays.add(id, { position: { top: -12, right: 12 }, html: '<span class="heat-count">' + n + '</span>' });
      });
      Object.entries(flows).forEach(([id, n]) => {
        if (registry.get(id)) { canvas.addMarker(id, 'flow-taken'); }
      });
      path.forEach((id) => { if (registry.get(id)) { canvas.addMarker(id, 'done'); } });
      deviating.forEach((id) => { if (registry.get(id)) { canvas.addMarker(id, 'deviation'); } });
      canvas.zoom('fit-viewport');
      box.dataset.rendered = 'true';
      box.dataset.marked = String(document.querySelectorAll('#heatmap .deviation').length);
      box.dataset.heat = String(document.querySelectorAll('#heatmap .heat-count').length);
    })
    .catch((err) => { box.dataset.rendered = 'error'; box.textContent = String(err); });
}());
