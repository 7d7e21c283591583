// The top of every frame-budget page: a classic inline script, so the long-task observer is in place before
// any of the page's modules load (buffered: true also hands it the tasks before it was registered).
export const HEAD = `<!doctype html><title>loading</title><script>
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration });
}).observe({ type: 'longtask', buffered: true });
</script>`;
