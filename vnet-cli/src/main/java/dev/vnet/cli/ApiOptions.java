package dev.vnet.cli;

import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.lab.LabNames;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Where the controller's API is and how to print its answers: the options every resource command takes. */
final class ApiOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--controller", paramLabel = "ENDPOINT", defaultValue = "${env:VNET_CONTROLLER:-unix:/run/vnet/controller.sock}",
            description = "The controller's API: unix:/PATH or http://HOST:PORT (default ${DEFAULT-VALUE}; env VNET_CONTROLLER).")
    String controller;

    @Option(names = "--lab", paramLabel = "NAME", description = "The controller of this lab (its socket in /run/vnet/labs/NAME/).")
    String lab;

    @Option(names = "--json", description = "Print the API's JSON instead of a table.")
    boolean json;

    String endpoint() {
        if (lab == null) {
            return controller;
        }
        if (command.commandLine().getParseResult().hasMatchedOption("--controller")) {
            throw new ParameterException(command.commandLine(), "give --controller or --lab, not both");
        }
        return "unix:" + LabNames.controllerSocket(lab);
    }

    ApiClient connect() {
        return ApiClient.connect(endpoint());
    }
}
