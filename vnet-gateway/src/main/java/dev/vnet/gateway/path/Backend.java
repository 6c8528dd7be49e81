package dev.vnet.gateway.path;

/**
 * A backend VM of a VIP as a gateway sees it.
 *
 * @param networkId the VM's network (its id in the registry), which its address is unique within
 * @param location  the location label of the VM's host ("" when none)
 */
public record Backend(String vm, long networkId, int address, String location) {
    /**
     * The backend's identity in the consistent mapping: a 64-bit FNV-1a hash of the VM's name, the
     * same on every gateway, so gateways that agree on the healthy set agree on every flow.
     */
    public long mappingId() {
        long hash = 0xCBF29CE484222325L;
        for (int i = 0; i < vm.length(); i++) {
            hash ^= vm.charAt(i);
            hash *= 0x100000001B3L;
        }
        return hash;
    }
}
