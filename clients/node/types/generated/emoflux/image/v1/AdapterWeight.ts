// Original file: ../../protos/emoflux/image/v1/image.proto


/**
 * A LoRA adapter applied to a generation, with its strength.
 */
export interface AdapterWeight {
  /**
   * Adapter name, one of the variant's `Variant.adapters[].name`.
   */
  'name'?: (string);
  /**
   * Strength the adapter's weight update is multiplied by; unset means 1.0.
   * Must be finite and in [-8, 8]; 0 turns the adapter off.
   */
  'scale'?: (number | string);
  '_scale'?: "scale";
}

/**
 * A LoRA adapter applied to a generation, with its strength.
 */
export interface AdapterWeight__Output {
  /**
   * Adapter name, one of the variant's `Variant.adapters[].name`.
   */
  'name': (string);
  /**
   * Strength the adapter's weight update is multiplied by; unset means 1.0.
   * Must be finite and in [-8, 8]; 0 turns the adapter off.
   */
  'scale'?: (number);
  '_scale'?: "scale";
}
