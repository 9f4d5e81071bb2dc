# Installation and the Debian packages (`packaging/dev.sh package`, docs/operators.md "The Debian
# package", docs/plugins.md "Out-of-tree plugins"):
#   portico      /usr/bin/portico, /usr/lib/portico/plugins/*.so, /etc/portico/*.toml (conffiles),
#                portico.service; maintainer scripts make the portico user, its directories under
#                /var/lib and /var/log, and the secrets in /etc/default/portico.
#   portico-dev  the plugin SDK: /usr/include/portico (contract, helpers, fake host) and the CMake
#                package Portico (find_package(Portico 3), portico_add_plugin()).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PORTICO_PLUGIN_API_VERSION "")
file(STRINGS ${CMAKE_SOURCE_DIR}/plugin_api/portico/api_version.hpp api_lines
     REGEX "#define PORTICO_PLUGIN_API_(MAJOR|MINOR) ")
foreach(line ${api_lines})
  string(REGEX MATCH "(MAJOR|MINOR) ([0-9]+)" _ "${line}")
  set(api_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
endforeach()
set(PORTICO_PLUGIN_API_VERSION "${api_MAJOR}.${api_MINOR}.0")
# Read at configure time: a change of the API version configures again (the SDK's version follows).
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_SOURCE_DIR}/plugin_api/portico/api_version.hpp)

# portico (component server)
install(TARGETS portico RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(FILES ${CMAKE_SOURCE_DIR}/configs/production.toml
        DESTINATION /etc/portico RENAME portico.toml COMPONENT server)
install(FILES ${CMAKE_SOURCE_DIR}/configs/staging.toml ${CMAKE_SOURCE_DIR}/configs/production.toml
        DESTINATION /etc/portico COMPONENT server)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/deb/portico.service
        DESTINATION /lib/systemd/system COMPONENT server)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/operators.md
              ${CMAKE_SOURCE_DIR}/packaging/deb/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
# Debian wants the changelog (of a native package: changelog.gz) and the manual page compressed,
# with maximum compression and no time stamp.
set(deb_changelog ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
set(deb_manual ${CMAKE_BINARY_DIR}/packaging/portico.1.gz)
add_custom_command(OUTPUT ${deb_changelog} ${deb_manual}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
  COMMAND gzip -n -9 -c ${CMAKE_SOURCE_DIR}/packaging/deb/changelog > ${deb_changelog}
  COMMAND gzip -n -9 -c ${CMAKE_SOURCE_DIR}/packaging/deb/portico.1 > ${deb_manual}
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/deb/changelog ${CMAKE_SOURCE_DIR}/packaging/deb/portico.1)
add_custom_target(portico_deb_files ALL DEPENDS ${deb_changelog} ${deb_manual})
install(FILES ${deb_manual} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT server)
install(FILES ${deb_changelog} DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
install(FILES ${deb_changelog} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/portico-dev
        COMPONENT sdk)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/deb/copyright
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/portico-dev COMPONENT sdk)

# portico-dev (component sdk)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/plugin_api/portico ${CMAKE_SOURCE_DIR}/sdk_headers/portico
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT sdk FILES_MATCHING PATTERN "*.hpp")
set(portico_cmake_dir ${CMAKE_INSTALL_DATADIR}/cmake/Portico)  # arch-independent
configure_package_config_file(${CMAKE_SOURCE_DIR}/packaging/sdk/PorticoConfig.cmake.in
  ${CMAKE_BINARY_DIR}/packaging/PorticoConfig.cmake
  INSTALL_DESTINATION ${portico_cmake_dir}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/packaging/PorticoConfigVersion.cmake
  VERSION ${PORTICO_PLUGIN_API_VERSION} COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_BINARY_DIR}/packaging/PorticoConfig.cmake
              ${CMAKE_BINARY_DIR}/packaging/PorticoConfigVersion.cmake
        DESTINATION ${portico_cmake_dir} COMPONENT sdk)

# CPack: one .deb per component, portico_<version>_amd64.deb and portico-dev_<version>_amd64.deb.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME portico)
set(CPACK_PACKAGE_VENDOR "The Portico authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "The Portico team <portico@example.com>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server sdk)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.com/portico")
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME portico)
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.54~)")
set(CPACK_COMPONENT_SERVER_DESCRIPTION "plugin-based API gateway for partner integrations
Portico lets partners read the product catalog and live inventory, place and
track orders, and receive signed webhooks, through plugins loaded at run time
and configured in TOML. Runs as the systemd service portico.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  "${CMAKE_SOURCE_DIR}/packaging/deb/postinst;${CMAKE_SOURCE_DIR}/packaging/deb/prerm;${CMAKE_SOURCE_DIR}/packaging/deb/postrm;${CMAKE_SOURCE_DIR}/packaging/deb/conffiles")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_SDK_PACKAGE_NAME portico-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "nlohmann-json3-dev (>= 3.10), libsodium-dev, pkg-config, cmake (>= 3.25)")
set(CPACK_COMPONENT_SDK_DESCRIPTION "plugin SDK for the Portico API gateway
Headers of the plugin contract and helpers (including a fake host for unit
tests) and the CMake package Portico: find_package(Portico 3) and
portico_add_plugin() build a plugin outside the gateway's source tree.")
include(CPack)
