/** The coded error of bringing files into the artifact store (brought candidates, `prefline import`). */
import { ErrorCode, PreflineError } from '../core/errors';

/**
 * Why a file or reference cannot become a candidate: outside the import root, not a kind Prefline
 * rates (an image or a UTF-8 text), over the size cap, or not what it was said to be. Not retryable:
 * the same file meets the same rule again. The message names the file and the rule.
 */
export class ImportRefusedError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ImportRefused, message, options);
  }
}
