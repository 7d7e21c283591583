// A simulated battery for the "battery low" switch. The runtime reads navigator.getBattery() (Battery Status API)
// whenever it refreshes the device; this replaces it, before create(), with a BatteryManager look-alike whose
// level the switch sets. Labelled "simulated" on the page: it says nothing about the real battery.
class SimulatedBattery extends EventTarget {
  constructor() {
    super();
    this.level = 0.8;
    this.charging = false;
    this.chargingTime = Infinity;
    this.dischargingTime = Infinity;
  }

  /** Sets the level (0..1) and tells listeners, as a real BatteryManager does. */
  setLevel(level) {
    if (level === this.level) return;
    this.level = level;
    this.dispatchEvent(new Event('levelchange'));
  }
}

export const battery = new SimulatedBattery();

/** Puts the simulated battery in place of the browser's (call before UnwrittenAI.create). */
export function installSimulatedBattery() {
  Object.defineProperty(navigator, 'getBattery', {
    configurable: true,
    value: () => Promise.resolve(battery),
  });
}
