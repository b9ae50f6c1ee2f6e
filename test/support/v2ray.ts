/**
 * The `policy` every v2ray peer of the tests runs with. Now and then v2ray 4.34 keeps its freedom
 * connection to the destination open after our client has reset the inbound connection (seen
 * for VMess and Shadowsocks inbounds; `ss` then shows nothing of ours left, only TIME-WAIT)
 * until `connIdle` fires, 300 s by default and checked at up to twice its period. 3 s bounds
 * that for the abort cases. The handshake timeout stays at v2ray's default 4 s (above the warm
 * pool's max-idle of 3 s).
 */
export const V2RAY_TEST_POLICY = { levels: { '0': { connIdle: 3 } } } as const;
