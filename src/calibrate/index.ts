/** Calibration: observers and range search (docs/quantization.md eq. 20–28), error metrics. */
export {
  Observer, MinMaxObserver, MovingAverageMinMaxObserver, PercentileObserver, MseObserver, EntropyObserver, MIN_SAMPLES_PER_LEVEL,
} from './observers.js';
export type {
  ObserverOptions, ObserverProgress, ClippingRange, MovingAverageOptions, HistogramOptions, PercentileOptions, EntropyOptions,
} from './observers.js';
export { sqnr, mse, maxAbsError, cosineSimilarity } from './metrics.js';
