// The product the device is built as when it runs against the emulator: the Login with Amazon security profile
// and the AWS account it registers under. A real product ships its own; the emulator registers this one, so the
// arrow points from the emulator to the device host, never back.

export const DEMO_LWA_CLIENT: { readonly clientId: string; readonly productIds: string[] } = {
  clientId: 'amzn1.application-oa2-client.ais-mcu-demo', productIds: ['ais_mcu_demo'],
};
export const DEMO_AWS_ACCOUNT = '000000000000';
