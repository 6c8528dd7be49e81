package dev.vnet.controller.api;

/** Answers one HTTP request of the API; refusals may be thrown as {@link ApiError} (or the graph's and registry's exceptions). */
public interface ApiDispatcher {
    Reply dispatch(String method, String uri, String contentType, byte[] body);
}
